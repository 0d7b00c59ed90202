/**
 * Every citation in the code resolves inside the repository (issue "structure"): a docs path and
 * the section named after it, a protocol rule label (S1..., C1...) defined in docs/PROTOCOL.md,
 * and every source path docs/ARCHITECTURE.md names.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

const files = sources('src').map((path) => ({ path, text: readFileSync(join(ROOT, path), 'utf8') }));
const headings = (doc: string): string[] =>
  [...readFileSync(join(ROOT, doc), 'utf8').matchAll(/^#{2,4} (.+)$/gm)].map((match) => match[1]!.trim());

describe('citations in src/', () => {
  it('every docs/ path exists, and the section named after it is a heading there', () => {
    const broken: string[] = [];
    for (const { path, text } of files) {
      for (const match of text.matchAll(/(docs\/[A-Za-z-]+\.md)(?:, "([^"]+)")?/g)) {
        const [, doc, section] = match;
        if (!existsSync(join(ROOT, doc!))) broken.push(`${path}: ${doc}`);
        else if (section !== undefined && !headings(doc!).some((heading) => heading.startsWith(section)))
          broken.push(`${path}: ${doc}, "${section}"`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every rule label (S1..., C1...) is defined in docs/PROTOCOL.md', () => {
    const defined = new Set([...readFileSync(join(ROOT, 'docs/PROTOCOL.md'), 'utf8').matchAll(/^\| ([SC]\d+) /gm)].map((m) => m[1]));
    const cited = new Set<string>();
    for (const { text } of files) {
      // Labels are cited in comments: "S4", "S3/S4", "(C5)", "rules S1-S12".
      for (const comment of text.matchAll(/\/\/.*$|\/\*[\s\S]*?\*\//gm))
        for (const label of comment[0].matchAll(/\b([SC](?:[1-9]|1[0-2]))\b/g)) cited.add(label[1]!);
    }
    expect(cited.size).toBeGreaterThan(10);
    expect([...cited].filter((label) => !defined.has(label))).toEqual([]);
  });

  it('every source path docs/ARCHITECTURE.md names exists', () => {
    const architecture = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
    const named = [...architecture.matchAll(/`((?:src\/)?(?:cli|gateway|server|session|store|protocol|client)\/[\w./-]+\.ts)`/g)].map(
      (m) => m[1]!,
    );
    expect(named.length).toBeGreaterThan(10);
    const missing = named.filter((path) => !existsSync(join(ROOT, path.startsWith('src/') ? path : `src/${path}`)));
    expect(missing).toEqual([]);
  });
});
