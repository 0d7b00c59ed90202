/**
 * @module cli/policy/policy-command
 * `sessiongate policy check FILE` validates a policy file (every problem, one per line; exit 1);
 * `sessiongate policy explain FILE --subject alice --tool slow` prints what it decides for one
 * call and which rule decided (docs/POLICY.md, "Trying a policy").
 */
import { Command, InvalidArgumentError } from 'commander';
import type { JsonObject, JsonValue } from '../../protocol/jsonrpc.js';
import { callerOf, GOVERNED_METHODS } from '../../policy/call.js';
import { decideRequest } from '../../policy/decide-request.js';
import { PolicyEvaluator } from '../../policy/evaluator.js';
import { PolicyError, readPolicyFile } from '../../policy/read-policy.js';

interface ExplainFlags {
  subject?: string;
  issuer?: string;
  defaultIssuer?: string;
  claims?: Record<string, unknown>;
  scopes?: string;
  client?: string;
  tool?: string;
  resource?: string;
  prompt?: string;
  method?: string;
  arguments?: JsonValue;
  server?: string;
  completion?: boolean;
}

export function policyCommand(): Command {
  const policy = new Command('policy').description('check a policy file, or explain what it decides for one call');
  policy
    .command('check <file>')
    .description('validate a policy file against its schema; every problem is printed')
    .action((file: string) => {
      const document = load(file);
      process.stdout.write(`${file}: valid, ${document.rules.length} rules, default ${document.default ?? 'deny'}\n`);
    });
  policy
    .command('explain <file>')
    .description('print the decision for one call, and the rule that made it')
    .option('--subject <subject>', 'the caller (the principal claim; none: anonymous)', once('--subject'))
    .option('--issuer <iss>', "the caller's issuer (iss)", once('--issuer'))
    .option('--default-issuer <iss>', "the gateway's first --issuer (rules without issuers describe its callers only)")
    .option('--claims <json>', 'the caller\'s other claims, as a JSON object (e.g. \'{"groups":["ops"]}\')', parseJsonObject)
    .option('--scopes <scopes>', "the token's scopes, space-separated", once('--scopes'))
    .option('--client <id>', 'the OAuth client id', once('--client'))
    .option('--tool <name>', 'a tools/call of this tool', once('--tool'))
    .option('--resource <uri>', 'a resources/read of this URI', once('--resource'))
    .option('--prompt <name>', 'a prompts/get of this prompt', once('--prompt'))
    .option('--method <method>', 'any other method', once('--method'))
    .option('--completion', 'a completion/complete of the --prompt or --resource (URI or URI template) given')
    .option('--server <name>', 'behind a federation: the server the call goes to (rules naming servers)', once('--server'))
    .option('--arguments <json>', "the call's arguments, as JSON", parseJson)
    .action((file: string, flags: ExplainFlags) => {
      const evaluator = new PolicyEvaluator(load(file));
      const server = flags.server;
      const request = requestFrom(flags);
      // Decided as the gateway decides (policy/decide-request.ts): the same function, the same steps.
      const { decision } = explained(() =>
        decideRequest(
          evaluator,
          callerFrom(flags),
          { jsonrpc: '2.0', id: 0, ...request },
          server === undefined ? {} : { serverOf: () => server },
        ),
      );
      const rule = decision.rule;
      const lines = [`decision: ${decision.effect}`, `rule: ${rule ? rule.id : '(none: the default)'}`];
      if (rule?.reason) lines.push(`reason: ${rule.reason}`);
      if (decision.effect === 'approve') lines.push(`approver: ${rule?.approver ?? 'user'}`);
      if (rule?.rateLimit)
        lines.push(`rate limit: ${rule.rateLimit.requests} per ${rule.rateLimit.per} (${rule.rateLimit.key ?? 'principal'})`);
      if (!GOVERNED_METHODS.has(request.method) && !rule)
        lines.push('(this method is not governed: it passes unless a rule names it in methods)');
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  return policy;
}

/** The decision, or the refusal the gateway would answer instead (a URI with no normal form), as one line and exit 1. */
function explained<T>(decide: () => T): T {
  try {
    return decide();
  } catch (error) {
    process.stderr.write(`refused before any rule: ${(error as Error).message}\n`);
    process.exit(1);
  }
}

function load(file: string): ReturnType<typeof readPolicyFile> {
  try {
    return readPolicyFile(file);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    process.stderr.write(`${file}: invalid\n${error.problems.map((problem) => `  ${problem}\n`).join('')}`);
    process.exit(1);
  }
}

function callerFrom(flags: ExplainFlags): ReturnType<typeof callerOf> {
  if (flags.subject === undefined && flags.claims === undefined) return callerOf(undefined, null);
  const claims: Record<string, unknown> = { ...flags.claims, ...(flags.subject === undefined ? {} : { sub: flags.subject }) };
  if (flags.scopes !== undefined) claims['scope'] = flags.scopes;
  if (flags.client !== undefined) claims['client_id'] = flags.client;
  if (flags.issuer !== undefined) claims['iss'] = flags.issuer;
  return callerOf({ claims }, 'explain', 'sub', flags.defaultIssuer);
}

/** A parser for a flag given at most once: a second value is an error, not a silent replacement. */
function once(flag: string): (value: string, previous: string | undefined) => string {
  return (value, previous) => {
    if (previous !== undefined) throw new InvalidArgumentError(`${flag} is given twice (${previous}, ${value}): explain decides one call`);
    return value;
  };
}

function requestFrom(flags: ExplainFlags): { method: string; params: JsonObject } {
  const named = (['tool', 'resource', 'prompt', 'method'] as const).filter((kind) => flags[kind] !== undefined);
  if (named.length > 1) throw new InvalidArgumentError(`name one call: --${named.join(' and --')} were both given`);
  if (flags.completion) {
    const argument = { name: 'x', value: '' };
    if (flags.prompt !== undefined)
      return { method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: flags.prompt }, argument } };
    if (flags.resource !== undefined)
      return { method: 'completion/complete', params: { ref: { type: 'ref/resource', uri: flags.resource }, argument } };
    throw new InvalidArgumentError('--completion goes with --prompt or --resource');
  }
  const args: JsonObject = flags.arguments === undefined ? {} : { arguments: flags.arguments };
  if (flags.tool !== undefined) return { method: 'tools/call', params: { name: flags.tool, ...args } };
  if (flags.prompt !== undefined) return { method: 'prompts/get', params: { name: flags.prompt, ...args } };
  if (flags.resource !== undefined) return { method: 'resources/read', params: { uri: flags.resource } };
  if (flags.method !== undefined) return { method: flags.method, params: {} };
  throw new InvalidArgumentError('name the call: --tool, --resource, --prompt or --method');
}

function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new InvalidArgumentError(`not JSON: ${text}`);
  }
}

function parseJsonObject(text: string): Record<string, unknown> {
  const value = parseJson(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError('--claims must be a JSON object');
  return value;
}
