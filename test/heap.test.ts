/**
 * Memory: instances are freed when sessions end, and a long session does not grow per request
 * (the SDK's stateful JSON mode keeps ~5.2 KB per answered request, typescript-sdk #2559).
 * Measured in a child process with --expose-gc so the test runner's own heap does not blur it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

function probe(mode: string): Record<string, number> {
  const script = fileURLToPath(new URL('./fixtures/heap-probe.ts', import.meta.url));
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, mode], { encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`heap probe failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, number>;
}

it('1,000 sessions DELETEd or expired: every McpServer closed, heap back within 10% of baseline', () => {
  const r = probe('disposal');
  expect(r['created']).toBe(1000);
  expect(r['closed']).toBe(1000);
  expect(r['live']).toBe(0);
  expect(r['full']! - r['baseline']!).toBeGreaterThan(1_000_000); // the sessions did cost memory
  expect(r['after']!).toBeLessThan(r['baseline']! * 1.1);
});

it('100,000 tools/call on one session leave the heap where it was', () => {
  const r = probe('per-request');
  // Under 1 MB for 100,000 calls (the SDK's JSON mode would keep ~500 MB).
  expect(r['after']! - r['before']!).toBeLessThan(1_000_000);
});
