/**
 * @module cli/keys/api-key-file
 * The file `--auth api-keys` reads and `sessiongate keys` writes: one JSON object per line
 * ({ name, sha256, claims?, created }), so adding a key is one appended line; blank lines and
 * lines starting with # are skipped. It holds hashes only (A8 of docs/AUTH.md), and is created
 * readable by its owner alone.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ApiKey, problemWithKey } from '../../auth/api-key-authenticator.js';

export const DEFAULT_API_KEY_FILE = '.sessiongate/api-keys.jsonl';

/** The keys of `path`; throws naming the file and line of the first bad one. */
export function readApiKeyFile(path: string): ApiKey[] {
  const keys: ApiKey[] = [];
  const names = new Set<string>();
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      const text = line.trim();
      if (text === '' || text.startsWith('#')) return;
      const where = `${path}, line ${index + 1}`;
      let key: unknown;
      try {
        key = JSON.parse(text);
      } catch {
        throw new Error(`${where}: not JSON`);
      }
      const problem = problemWithKey(key);
      if (problem !== undefined) throw new Error(`${where}: ${problem}`);
      const { name, sha256, claims } = key as ApiKey;
      if (names.has(name)) throw new Error(`${where}: "${name}" is listed twice`);
      names.add(name);
      keys.push({ name, sha256, ...(claims ? { claims } : {}) });
    });
  return keys;
}

/** Appends a key's line, creating the file (mode 0600) and its folder when missing. */
export function appendApiKey(path: string, key: ApiKey): void {
  const problem = problemWithKey(key);
  if (problem !== undefined) throw new Error(problem);
  if (existsSync(path) && readApiKeyFile(path).some((known) => known.name === key.name))
    throw new Error(`${path} already has a key named "${key.name}" (remove it first)`);
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${JSON.stringify({ ...key, created: new Date().toISOString() })}\n`, { mode: 0o600 });
}

/** Removes the line of the key named `name`; false when there is none. */
export function removeApiKey(path: string, name: string): boolean {
  readApiKeyFile(path); // every line is then a key or skipped
  const lines = readFileSync(path, 'utf8').split('\n');
  const kept = lines.filter((line) => {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) return true;
    return (JSON.parse(text) as ApiKey).name !== name;
  });
  if (kept.length === lines.length) return false;
  writeFileSync(path, kept.join('\n'), { mode: 0o600 });
  return true;
}
