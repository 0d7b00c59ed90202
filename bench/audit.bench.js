// Benchmark: what the hash-chained audit log costs (issue 19). The same gateway (memory store,
// no auth) in front of the same upstream, on a warm session: without an audit log, with the
// chained log to a file (every line canonicalized and hashed), and with that log while a
// console watches the live tail; order rotated round by round, ratios paired per round
// (target at most 1.10x for the chained log).
//
//   node bench/audit.bench.js    (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10)
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, measureRunning, median, openSession, publish, settings, start } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-audit-bench-'));
const upstream = await start('sessiongate.js', {}, 1);
const MODES = ['none', 'discard', 'plain', 'chained', 'watched'];
const samples = { none: [], discard: [], plain: [], chained: [], watched: [] };
const env = (mode, round) => {
  if (mode === 'none') return { UPSTREAM: upstream.url };
  if (mode === 'discard') return { UPSTREAM: upstream.url, AUDIT: 'discard' };
  if (mode === 'plain') return { UPSTREAM: upstream.url, AUDIT_PLAIN: join(dir, `plain-${round}.jsonl`) };
  return { UPSTREAM: upstream.url, AUDIT: join(dir, `${mode}-${round}.jsonl`), ...(mode === 'watched' ? { AUDIT_WATCHED: '1' } : {}) };
};
for (let round = 1; round <= settings.rounds; round++) {
  const order = [...MODES.slice(round % MODES.length), ...MODES.slice(0, round % MODES.length)];
  for (const mode of order) {
    const server = await start('gateway-auth.js', env(mode, round));
    samples[mode].push(await measureRunning(mode, server, true, (url) => openSession(url, { authorization: 'Bearer bench' })));
  }
  console.error(`round ${round}: ` + MODES.map((m) => `${m} ${samples[m].at(-1).cpu.toFixed(1)} µs CPU/req`).join('; '));
}
await upstream.stop();
const lineBytes = statSync(join(dir, `chained-1.jsonl`)).size;
rmSync(dir, { recursive: true, force: true });

const med = (list, key) => median(list.map((x) => x[key]));
const ratio = (mode, key) => median(samples[mode].map((x, i) => x[key] / samples.none[i][key]));
const NAMES = {
  none: 'no audit log',
  discard: 'audit events made, then dropped (no log)',
  plain: 'unchained log, a write per line (before issue 19)',
  chained: 'chained audit log (file)',
  watched: 'chained log + console watching the tail',
};
publish('audit.md', [
  machine(),
  `Gateway (memory store, no auth) to a session server on core 1, tools/call echo on one warm session, autocannon ${settings.connections} connections; ${settings.rounds} rounds, order rotated, medians; ratios paired per round. (One round's chained log: ${(lineBytes / 1e6).toFixed(1)} MB.)`,
  '',
  '| gateway | req/s | p99 ms | CPU µs/req, full speed | CPU µs/req at equal load |',
  '|---|---:|---:|---:|---:|',
  ...MODES.map(
    (m) =>
      `| ${NAMES[m]} | ${Math.round(med(samples[m], 'rps'))} | ${med(samples[m], 'p99')} | ${med(samples[m], 'fullCpu').toFixed(1)} | ${med(samples[m], 'cpu').toFixed(1)} |`,
  ),
  '',
  `chained log / none: CPU per request at equal load ${ratio('chained', 'cpu').toFixed(3)}x (target <= 1.10), at full speed ${ratio('chained', 'fullCpu').toFixed(3)}x.`,
  `events made and dropped / none: at equal load ${ratio('discard', 'cpu').toFixed(3)}x; chained log / events dropped: ${median(samples.chained.map((x, i) => x.cpu / samples.discard[i].cpu)).toFixed(3)}x; chained / unchained: ${median(samples.chained.map((x, i) => x.cpu / samples.plain[i].cpu)).toFixed(3)}x.`,
  `with a console watching / none: at equal load ${ratio('watched', 'cpu').toFixed(3)}x, at full speed ${ratio('watched', 'fullCpu').toFixed(3)}x.`,
]);
