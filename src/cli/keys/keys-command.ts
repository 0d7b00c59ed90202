/**
 * @module cli/keys/keys-command
 * `sessiongate keys add NAME` prints a new API key once and appends only its hash to the key
 * file; `keys list` names the keys there; `keys remove NAME` revokes it. A running gateway reads the file again when it changes
 * (gateway-auth.ts), so neither needs a restart (docs/AUTH.md, "API keys").
 */
import { Command } from 'commander';
import { newApiKey } from '../../auth/api-key-authenticator.js';
import { appendApiKey, DEFAULT_API_KEY_FILE, listApiKeys, removeApiKey } from './api-key-file.js';

export function keysCommand(): Command {
  const keys = new Command('keys').description('API keys for --auth api-keys: add, list or remove (the file holds hashes only)');
  keys
    .command('add <name>')
    .description('print a new key for NAME once, and append its hash to the key file')
    .option('--api-keys <file>', 'the key file', DEFAULT_API_KEY_FILE)
    .option('--scope <scope>', 'a scope the key grants (repeatable)', (scope: string, previous: string[] = []) => [...previous, scope])
    .action((name: string, values: { apiKeys: string; scope?: string[] }) => {
      const { key, sha256 } = newApiKey();
      appendApiKey(values.apiKeys, { name, sha256, ...(values.scope ? { claims: { scope: values.scope.join(' ') } } : {}) });
      process.stderr.write(`sessiongate: added a key for "${name}" to ${values.apiKeys}; it is shown once, here:\n`);
      process.stdout.write(`${key}\n`);
    });
  keys
    .command('list')
    .description('the names of the keys in the key file, their scopes and when they were added (never a key or its hash)')
    .option('--api-keys <file>', 'the key file', DEFAULT_API_KEY_FILE)
    .option('--json', 'one JSON object per key')
    .action((values: { apiKeys: string; json?: boolean }) => {
      const listed = listApiKeys(values.apiKeys);
      for (const key of listed) {
        const scopes = key.scopes.length > 0 ? `scopes: ${key.scopes.join(' ')}` : 'no scopes';
        process.stdout.write(values.json ? `${JSON.stringify(key)}\n` : `${key.name}\t${key.created ?? '-'}\t${scopes}\n`);
      }
      if (listed.length === 0) process.stderr.write(`sessiongate: ${values.apiKeys} has no keys\n`);
    });
  keys
    .command('remove <name>')
    .description("remove NAME's key from the key file (a running gateway refuses it within seconds)")
    .option('--api-keys <file>', 'the key file', DEFAULT_API_KEY_FILE)
    .action((name: string, values: { apiKeys: string }) => {
      if (!removeApiKey(values.apiKeys, name)) throw new Error(`${values.apiKeys} has no key named "${name}"`);
      process.stderr.write(`sessiongate: removed the key of "${name}" from ${values.apiKeys}\n`);
    });
  return keys;
}
