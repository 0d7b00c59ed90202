/**
 * @module cli/gateway/secret
 * A client secret comes from a file or an environment variable, never from a flag's value,
 * which any process list shows (docs/AUTH.md, "Flags").
 */
import { readFileSync } from 'node:fs';

/** The secret in `file` (trimmed), else in the environment variable `variable`; undefined when neither holds one. */
export function secretFrom(file: string | undefined, variable: string): string | undefined {
  const secret = file === undefined ? process.env[variable] : readFileSync(file, 'utf8').trim();
  return secret === '' ? undefined : secret;
}
