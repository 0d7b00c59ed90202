/**
 * @module policy/compiled-rule
 * One rule made ready to test: its who-conditions as sets, its names as NameSets, its argument
 * schema compiled once (docs/POLICY.md, "Rules").
 */
import type { Call, Caller } from './call.js';
import { isUriTemplate, normalizeResourcePattern } from '../protocol/resource-uri.js';
import { NameSet } from './globs.js';
import type { Effect, PolicyRule } from './policy-document.js';

/** Lower is stronger: deny beats approve beats allow. */
export const STRENGTH: Readonly<Record<Effect, number>> = { deny: 0, approve: 1, allow: 2 };

export class CompiledRule {
  readonly rule: PolicyRule;
  /** Its place in the file: of the rules with the deciding effect, the first one decides. */
  readonly index: number;
  readonly strength: number;
  readonly subjects: ReadonlySet<string> | undefined;
  readonly tools: NameSet | undefined;
  readonly resources: NameSet | undefined;
  readonly prompts: NameSet | undefined;
  readonly methods: NameSet | undefined;
  readonly connections: NameSet | undefined;
  readonly #servers: ReadonlySet<string> | undefined;
  readonly #issuers: ReadonlySet<string> | undefined;
  /** Names a person by what their token says (subjects, claims, scopes, clients): meaningful per issuer only. */
  readonly #describesPeople: boolean;
  readonly #scopes: readonly string[] | undefined;
  readonly #clients: ReadonlySet<string> | undefined;
  readonly #claims: readonly (readonly [string, readonly unknown[]])[];
  readonly #arguments: ((value: unknown) => boolean) | undefined;

  constructor(rule: PolicyRule, index: number, compileSchema: (schema: Record<string, unknown>) => (value: unknown) => boolean) {
    this.rule = rule;
    this.index = index;
    this.strength = STRENGTH[rule.effect];
    this.subjects = rule.subjects && new Set(rule.subjects);
    this.tools = rule.tools && new NameSet(rule.tools);
    // Patterns in the normal form the URIs they are matched against take (protocol/resource-uri.ts).
    this.resources =
      rule.resources &&
      new NameSet(rule.resources.map((pattern) => (isUriTemplate(pattern) ? pattern : normalizeResourcePattern(pattern))));
    this.prompts = rule.prompts && new NameSet(rule.prompts);
    this.methods = rule.methods && new NameSet(rule.methods);
    this.connections = rule.connections && new NameSet(rule.connections);
    this.#servers = rule.servers && new Set(rule.servers);
    this.#issuers = rule.issuers && new Set(rule.issuers);
    this.#describesPeople = Boolean(rule.subjects ?? rule.claims ?? rule.scopes ?? rule.clients);
    this.#scopes = rule.scopes;
    this.#clients = rule.clients && new Set(rule.clients);
    this.#claims = Object.entries(rule.claims ?? {}).map(([name, value]) => [name, Array.isArray(value) ? value : [value]] as const);
    this.#arguments = rule.arguments && compileSchema(rule.arguments);
  }

  /** A rule that names no tool, resource, prompt, method or connection covers every call the default governs. */
  get coversAnyGoverned(): boolean {
    return !this.tools && !this.resources && !this.prompts && !this.methods && !this.connections;
  }

  /** Every who-condition holds for `caller`. */
  appliesTo(caller: Caller): boolean {
    const rule = this.rule;
    if (rule.anonymous !== undefined && rule.anonymous !== caller.anonymous) return false;
    // Another issuer's `sub: alice` is another person (docs/POLICY.md, "Issuers").
    if (this.#issuers) {
      if (caller.issuer === undefined || !this.#issuers.has(caller.issuer)) return false;
    } else if (this.#describesPeople && !caller.ofDefaultIssuer) return false;
    if (this.subjects && (caller.subject === undefined || !this.subjects.has(caller.subject))) return false;
    if (this.#clients && (caller.clientId === undefined || !this.#clients.has(caller.clientId))) return false;
    if (this.#scopes && !this.#scopes.some((scope) => caller.scopes.has(scope))) return false;
    for (const [name, accepted] of this.#claims) {
      const value = caller.claims[name];
      if (!(Array.isArray(value) ? value.some((v) => accepted.includes(v)) : accepted.includes(value))) return false;
    }
    return true;
  }

  /** The call is one this rule names; `listing`: the arguments are not known yet (a list). */
  names(call: Call, governed: boolean): boolean {
    // `servers` narrows whatever else the rule names: a call to another server (or none) is not its.
    if (this.#servers && (call.server === undefined || !this.#servers.has(call.server))) return false;
    if (this.coversAnyGoverned) return governed;
    if (this.methods?.has(call.method)) return true;
    if (call.name === undefined) return false;
    if (call.kind === 'tool') return this.tools?.has(call.name) ?? false;
    if (call.kind === 'resource') return this.resources?.has(call.name) ?? false;
    if (call.kind === 'prompt') return this.prompts?.has(call.name) ?? false;
    if (call.kind === 'connection') return this.connections?.has(call.name) ?? false;
    return false;
  }

  /** The call's arguments satisfy the rule's schema (or it has none); undefined while listing (unknown). */
  argumentsMatch(call: Call, listing: boolean): boolean | undefined {
    if (!this.#arguments) return true;
    if (listing) return undefined;
    if (call.kind !== 'tool' && call.kind !== 'prompt') return false;
    return this.#arguments(call.arguments ?? {});
  }
}
