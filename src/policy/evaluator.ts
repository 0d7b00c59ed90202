/**
 * @module policy/evaluator
 * Decides one call: of the rules that name it and apply to its caller, deny beats approve beats
 * allow, and the first such rule in the file decides (its id, reason, approval and rate limit);
 * with none, `default` decides for the governed methods and anything else passes (docs/POLICY.md).
 * Rules are indexed by exact name and by subject, so a call looks at the few rules that could
 * concern it, not at the whole file (bench/RESULTS.md, "Issue 18").
 */
import { type Call, type Caller, type CallKind, GOVERNED_METHODS } from './call.js';
import { CompiledRule } from './compiled-rule.js';
import type { Effect, PolicyDocument, PolicyRule } from './policy-document.js';
import { argumentSchemaCompiler, parsePolicy } from './read-policy.js';

export interface Decision {
  effect: Effect;
  /** The deciding rule; undefined when `default` decided, or a protocol method passed. */
  rule: PolicyRule | undefined;
}

/** Rules that may concern one name: those naming the caller's subject, and the rest. */
class Candidates {
  readonly bySubject = new Map<string, CompiledRule[]>();
  readonly others: CompiledRule[] = [];

  add(rule: CompiledRule): void {
    if (!rule.subjects) return void this.others.push(rule);
    for (const subject of rule.subjects) {
      const list = this.bySubject.get(subject);
      if (list) list.push(rule);
      else this.bySubject.set(subject, [rule]);
    }
  }
}

/** Rules by the names they give one kind of thing: exact names, then globs. */
class NameIndex {
  readonly exact = new Map<string, Candidates>();
  readonly globs = new Candidates();

  add(rule: CompiledRule, names: { exact: ReadonlySet<string>; hasGlobs: boolean } | undefined): void {
    if (!names) return;
    for (const name of names.exact) {
      let candidates = this.exact.get(name);
      if (!candidates) this.exact.set(name, (candidates = new Candidates()));
      candidates.add(rule);
    }
    if (names.hasGlobs) this.globs.add(rule);
  }
}

export class PolicyEvaluator {
  readonly document: PolicyDocument;
  readonly #default: 'allow' | 'deny';
  readonly #byKind: Record<Exclude<CallKind, 'method'>, NameIndex> = {
    tool: new NameIndex(),
    resource: new NameIndex(),
    prompt: new NameIndex(),
    connection: new NameIndex(),
  };
  readonly #methods = new NameIndex();
  readonly #anyGoverned = new Candidates();
  /** Some rule names `connections`: using a connection is then checked on each call (docs/POLICY.md, "Connections"). */
  readonly governsConnections: boolean;

  constructor(document: PolicyDocument) {
    this.document = document;
    this.#default = document.default ?? 'deny';
    this.governsConnections = document.rules.some((rule) => rule.connections !== undefined);
    const compile = argumentSchemaCompiler();
    document.rules.forEach((rule, index) => {
      const compiled = new CompiledRule(rule, index, compile);
      if (compiled.coversAnyGoverned) return this.#anyGoverned.add(compiled);
      this.#byKind.tool.add(compiled, compiled.tools);
      this.#byKind.resource.add(compiled, compiled.resources);
      this.#byKind.prompt.add(compiled, compiled.prompts);
      this.#byKind.connection.add(compiled, compiled.connections);
      this.#methods.add(compiled, compiled.methods);
    });
  }

  /** The decision on `call` by `caller`. */
  decide(caller: Caller, call: Call): Decision {
    return this.#decide(caller, call, false);
  }

  /** Whether `caller` may use what a list shows (approve counts; a rule on arguments is assumed to allow some). */
  usable(caller: Caller, call: Call): boolean {
    return this.#decide(caller, call, true).effect !== 'deny';
  }

  #decide(caller: Caller, call: Call, listing: boolean): Decision {
    const governed = GOVERNED_METHODS.has(call.method);
    let best: CompiledRule | undefined;
    const consider = (candidates: Candidates | undefined): void => {
      if (!candidates) return;
      const own = caller.subject === undefined ? undefined : candidates.bySubject.get(caller.subject);
      if (own) for (const rule of own) best = better(best, rule, caller, call, governed, listing);
      for (const rule of candidates.others) best = better(best, rule, caller, call, governed, listing);
    };
    if (call.kind !== 'method' && call.name !== undefined) {
      const index = this.#byKind[call.kind];
      consider(index.exact.get(call.name));
      consider(index.globs);
    }
    consider(this.#methods.exact.get(call.method));
    consider(this.#methods.globs);
    if (governed) consider(this.#anyGoverned);
    if (best) return { effect: best.rule.effect, rule: best.rule };
    return { effect: governed ? this.#default : 'allow', rule: undefined };
  }
}

/** `rule` if it decides over `best` for this call (stronger, or as strong and earlier), else `best`. */
function better(
  best: CompiledRule | undefined,
  rule: CompiledRule,
  caller: Caller,
  call: Call,
  governed: boolean,
  listing: boolean,
): CompiledRule | undefined {
  if (best && (rule.strength > best.strength || (rule.strength === best.strength && rule.index >= best.index))) return best;
  if (!rule.names(call, governed) || !rule.appliesTo(caller)) return best;
  const argumentsMatch = rule.argumentsMatch(call, listing);
  // Listing, the arguments are unknown: a deny that depends on them does not hide the item.
  if (argumentsMatch === false || (argumentsMatch === undefined && rule.rule.effect === 'deny')) return best;
  return rule;
}

/** A policy from a document, text (JSON or YAML) or object: checked, then compiled. */
export function compilePolicy(input: PolicyDocument | string | object, source?: string): PolicyEvaluator {
  return new PolicyEvaluator(parsePolicy(input, source));
}
