/**
 * @module gateway/curation/read-curation
 * A curation file to a checked document: JSON or YAML, validated against CURATION_SCHEMA with
 * every problem reported (path and reason), as the policy file is (policy/read-policy.ts).
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { problemOf } from '../../policy/read-policy.js';
import type { CurationDocument } from './curation-document.js';
import { CURATION_SCHEMA } from './curation-schema.js';

/** A curation that cannot be used: every problem found, each "where: what". */
export class CurationError extends Error {
  readonly code = 'SG_INVALID_CURATION';
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(`${source}: ${problems.join('; ')}`);
    this.name = 'CurationError';
    this.problems = problems;
  }
}

/** Compiled on the first read: a gateway without a curation never pays for it. */
let validate: ValidateFunction<CurationDocument> | undefined;

/** Reads and checks the curation file at `path`. Throws CurationError naming the file. */
export function readCurationFile(path: string): CurationDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CurationError(path, [(error as Error).message]);
  }
  return parseCuration(text, path);
}

/** Checks a curation given as text (JSON or YAML) or as an object. */
export function parseCuration(input: string | object, source = 'curation'): CurationDocument {
  let document: unknown = input;
  if (typeof input === 'string') {
    try {
      document = parseYaml(input, { prettyErrors: false });
    } catch (error) {
      throw new CurationError(source, [`not JSON or YAML: ${(error as Error).message.split('\n')[0]}`]);
    }
  }
  validate ??= new Ajv({ allErrors: true, strict: false }).compile<CurationDocument>(CURATION_SCHEMA);
  if (!validate(document)) throw new CurationError(source, [...new Set((validate.errors ?? []).map(problemOf))]);
  return document;
}
