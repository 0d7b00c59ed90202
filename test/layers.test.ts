/**
 * docs/ARCHITECTURE.md, "Layers": data flows top to bottom; a layer imports only the ones below
 * it, whether by `import ... from`, `export ... from` or a dynamic `import()`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));
const ORDER = ['protocol', 'store', 'session', 'auth', 'client', 'server', 'policy', 'gateway', 'cli'];
/** What each layer may import (besides itself). server and client know nothing of each other. */
const ALLOWED: Record<string, string[]> = {
  protocol: [],
  store: ['protocol'],
  session: ['protocol', 'store'],
  auth: ['protocol'],
  client: ['protocol'],
  server: ['protocol', 'store', 'session'],
  policy: ['protocol', 'store', 'session', 'auth', 'server'],
  gateway: ['protocol', 'store', 'session', 'auth', 'server', 'client', 'policy'],
  cli: ORDER,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The relative modules a source imports: `import ... from`, `export ... from`, `import()`. */
function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\(\s*)'(\.[^']+)'/g)].map((match) => match[1]!);
}

it('sees every kind of import', () => {
  const sample = [
    "import type { T } from '../a.js';",
    "export { b } from './b.js';",
    "const { C } = await import('../c/index.js');",
    "import d from 'node:fs';",
  ].join('\n');
  expect(importsOf(sample)).toEqual(['../a.js', './b.js', '../c/index.js']);
});

it('every import points down the layers', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const layer = relative(SRC, file).split('/')[0]!;
    if (!(layer in ALLOWED)) continue; // src/index.ts re-exports
    for (const target of importsOf(readFileSync(file, 'utf8'))) {
      const resolved = relative(SRC, join(file, '..', target)).split('/')[0]!;
      if (resolved !== layer && !ALLOWED[layer]!.includes(resolved)) violations.push(`${relative(SRC, file)} imports ${target}`);
    }
  }
  expect(violations).toEqual([]);
});

it('the root entry stays runtime-neutral: no sqlite, redis or node:http', () => {
  const rootFiles = files(SRC).filter(
    (f) => /\/(protocol|store\/memory|session)\//.test(f) || f.endsWith('store/record.ts') || f.endsWith('store/store.ts'),
  );
  for (const file of rootFiles) {
    const text = readFileSync(file, 'utf8');
    expect(text, file).not.toMatch(/better-sqlite3|ioredis|node:http/);
  }
});
