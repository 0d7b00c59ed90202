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

/** A key as `sessiongate keys list` shows it: never its hash. */
export interface ListedKey {
  name: string;
  scopes: string[];
  created: string | null;
}

/** The keys of `path`; throws naming the file and line of the first bad one, or how to make the file. */
export function readApiKeyFile(path: string): ApiKey[] {
  return keyLines(path).map(({ name, sha256, claims }) => ({ name, sha256, ...(claims ? { claims } : {}) }));
}

/** The keys of `path` as `keys list` shows them. */
export function listApiKeys(path: string): ListedKey[] {
  return keyLines(path).map(({ name, claims, created }) => ({
    name,
    scopes: typeof claims?.['scope'] === 'string' ? claims['scope'].split(' ').filter(Boolean) : [],
    created: typeof created === 'string' ? created : null,
  }));
}

function keyLines(path: string): (ApiKey & { created?: unknown })[] {
  if (!existsSync(path)) throw new Error(`there is no API key file at ${path} yet: add a key with \`sessiongate keys add NAME\``);
  const keys: (ApiKey & { created?: unknown })[] = [];
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
      const listed = key as ApiKey & { created?: unknown };
      if (names.has(listed.name)) throw new Error(`${where}: "${listed.name}" is listed twice`);
      names.add(listed.name);
      keys.push(listed);
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
