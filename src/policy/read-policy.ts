/**
 * @module policy/read-policy
 * A policy file to a checked document: JSON or YAML (YAML is a superset, so one parser reads
 * both), validated against POLICY_SCHEMA by ajv with every error reported (path and reason),
 * plus what a schema cannot say (rule ids unique, argument schemas that compile).
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import type { PolicyDocument } from './policy-document.js';
import { POLICY_SCHEMA } from './policy-schema.js';

/** A policy that cannot be used: every problem found, each "where: what". */
export class PolicyError extends Error {
  readonly code = 'SG_INVALID_POLICY';
  readonly problems: readonly string[];

  constructor(source: string, problems: string[]) {
    super(`${source}: ${problems.join('; ')}`);
    this.name = 'PolicyError';
    this.problems = problems;
  }
}

const ajv = new Ajv({ allErrors: true, strict: false });
/** Compiled on the first policy read, not at import: a gateway without a policy never pays for it. */
let validate: ValidateFunction<PolicyDocument> | undefined;

/** Reads and checks the policy file at `path`. Throws PolicyError naming the file. */
export function readPolicyFile(path: string): PolicyDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PolicyError(path, [(error as Error).message]);
  }
  return parsePolicy(text, path);
}

/** Checks a policy given as text (JSON or YAML) or as an object. */
export function parsePolicy(input: string | object, source = 'policy'): PolicyDocument {
  let document: unknown = input;
  if (typeof input === 'string') {
    try {
      document = parseYaml(input, { prettyErrors: false });
    } catch (error) {
      throw new PolicyError(source, [`not JSON or YAML: ${(error as Error).message.split('\n')[0]}`]);
    }
  }
  validate ??= ajv.compile<PolicyDocument>(POLICY_SCHEMA);
  if (!validate(document)) {
    const problems = (validate.errors ?? []).map(problemOf);
    throw new PolicyError(source, [...new Set(problems)]);
  }
  const problems: string[] = [];
  const ids = new Set<string>();
  document.rules.forEach((rule, index) => {
    if (ids.has(rule.id)) problems.push(`/rules/${index}/id "${rule.id}" is used twice`);
    ids.add(rule.id);
    // Connecting is done on a page, not in a call: nobody could be asked to approve it there.
    if (rule.connections !== undefined && rule.effect === 'approve')
      problems.push(`/rules/${index} names connections: its effect must be allow or deny (a connection is not approved)`);
    if (rule.arguments !== undefined && !ajv.validateSchema(rule.arguments))
      problems.push(`/rules/${index}/arguments is not a valid JSON Schema: ${ajv.errorsText(ajv.errors)}`);
  });
  if (problems.length > 0) throw new PolicyError(source, problems);
  return document;
}

/** One schema error as a person fixes it: the property, and what it may be (the curation file's too). */
export function problemOf(error: ErrorObject): string {
  const where = error.instancePath || '/';
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'enum':
      return `${where} must be one of: ${(params['allowedValues'] as unknown[]).map((value) => JSON.stringify(value)).join(', ')}`;
    case 'additionalProperties':
      return `${where} has an unknown property "${String(params['additionalProperty'])}"`;
    case 'required':
      return `${where} needs the property "${String(params['missingProperty'])}"`;
    case 'const':
      return `${where} must be ${JSON.stringify(params['allowedValue'])}`;
    default:
      return `${where} ${error.message ?? 'is invalid'}`;
  }
}

/**
 * A compiler of argument schemas for one load: its own ajv instance, so what a replaced policy
 * compiled is freed with it (ajv keeps every schema it compiled).
 */
export function argumentSchemaCompiler(): (schema: Record<string, unknown>) => (value: unknown) => boolean {
  const own = new Ajv({ allErrors: false, strict: false });
  return (schema) => {
    const check = own.compile(schema);
    return (value) => check(value);
  };
}
