// Benchmark: what curation and tool pinning cost the gateway (issue 41), the CLI as a user runs
// it (SQLite store) in front of a session server listing 100 tools, in the same run: `off`
// (neither), `curated` (--curation renaming and re-describing all 100 tools, echo titled and
// given a default argument: every listed tool and the call take the curated path), `pinned`
// (--pin strict: each list compared with the pins, each call checked). Two paths: tools/call
// echo on a warm session, and tools/list (100 tools). Rounds with the order rotated; CPU per
// request at equal load, ratios paired per round. Issue 41: curated <= 1.05x off on both.
//
//   node bench/curation.bench.js    (ROUNDS=5 DURATION=10 RATE=2000 CONNECTIONS=10; PATHS=call,list)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CALL, machine, measureRunning, median, publish, settings, start } from './harness.js';
import { startCliGateway } from './processes.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-curation-bench-'));
const TOOLS = 100;
const tools = {};
// Renamed and re-described to the same length, so what is measured is the curating, not the
// longer answer an operator's own text makes (an added annotation on each of 100 tools makes
// the list's JSON a quarter longer, and serializing it about 10 µs dearer: not the stage's cost).
const sameLength = 'Tool number N of a benchmark server, with a description of ordinary length.';
for (let i = 1; i < TOOLS; i++)
  tools[`tool_${i}`] = { name: `tidy_${i}`, description: sameLength.replace('N', String(i)).replace('ordinary', 'curated ') };
tools['echo'] = { title: 'Echo', arguments: { mode: { default: 'plain' } } };
const curationFile = join(dir, 'curation.json');
writeFileSync(curationFile, JSON.stringify({ tools }));

const MODES = { off: [], curated: ['--curation', curationFile], pinned: ['--pin', 'strict'] };
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
const PATHS = { call: CALL, list: LIST };
const paths = Object.keys(PATHS).filter((path) => !process.env.PATHS || process.env.PATHS.split(',').includes(path));
// MODES=off,curated runs only those (a tighter paired comparison).
const names = Object.keys(MODES).filter((name) => !process.env.MODES || process.env.MODES.split(',').includes(name));
const samples = Object.fromEntries(paths.flatMap((path) => names.map((name) => [`${path}/${name}`, []])));
const upstream = await start('sessiongate.js', { TOOLS: String(TOOLS) }, 1);
for (let round = 1; round <= settings.rounds; round++) {
  const order = [...names.slice((round - 1) % names.length), ...names.slice(0, (round - 1) % names.length)];
  for (const path of paths)
    for (const mode of order) {
      const gateway = await startCliGateway(upstream.url, join(dir, `${path}-${mode}-${round}.db`), { extraArgs: MODES[mode] });
      samples[`${path}/${mode}`].push(await measureRunning(`${path}/${mode}`, gateway, true, undefined, PATHS[path]));
    }
  console.error(
    `round ${round}: ` +
      Object.keys(samples)
        .map((key) => `${key} ${samples[key].at(-1).cpu.toFixed(1)} µs`)
        .join('; '),
  );
}
await upstream.stop();
rmSync(dir, { recursive: true, force: true });

const med = (list, key) => median(list.map((x) => x[key]));
const paired = (of, to, key) => median(samples[of].map((x, i) => x[key] / samples[to][i][key]));
publish('curation.md', [
  machine(),
  `Load: autocannon, ${settings.connections} connections, on one session through \`sessiongate --upstream URL\` (SQLite store, its own process on core 0) to a session server listing ${TOOLS} tools on core 1; tools/call echo, and tools/list; ${settings.rounds} rounds, order rotated, medians; ratios paired per round.`,
  '',
  '| path / gateway | req/s | p99 ms | CPU µs/req, full speed | CPU µs/req at equal load |',
  '|---|---:|---:|---:|---:|',
  ...Object.keys(samples).map(
    (key) =>
      `| ${key} | ${Math.round(med(samples[key], 'rps'))} | ${med(samples[key], 'p99')} | ${med(samples[key], 'fullCpu').toFixed(1)} | ${med(samples[key], 'cpu').toFixed(1)} |`,
  ),
  '',
  ...paths.flatMap((path) =>
    names
      .filter((name) => name !== 'off')
      .map(
        (name) =>
          `${path}: ${name} / off, CPU per request at equal load ${paired(`${path}/${name}`, `${path}/off`, 'cpu').toFixed(3)}x, at full speed ${paired(`${path}/${name}`, `${path}/off`, 'fullCpu').toFixed(3)}x${name === 'curated' ? ' (issue 41: at most 1.05x)' : ''}.`,
      ),
  ),
]);
