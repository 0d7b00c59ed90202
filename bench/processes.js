// Process-level measurements for benchmarks whose peers are not ours (no IPC): start a command,
// wait for its port, read CPU time and memory from /proc, list its descendants.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hasTaskset } from './harness.js';

const SESSIONGATE = new URL('../bin/sessiongate.js', import.meta.url).pathname;
let cliPort = 21000 + Math.floor(Math.random() * 20000);

/**
 * `sessiongate --upstream URL` as a user runs it: default flags (the SQLite store at
 * `storeFile`, hygiene, both eras, the audit events feeding /metrics), its own process on
 * core 0; CPU read from /proc. `extraArgs` adds flags, `env` variables; `cli` runs another
 * build's bin (a baseline).
 */
export async function startCliGateway(upstreamUrl, storeFile, { extraArgs = [], cli = SESSIONGATE, env = {} } = {}) {
  const port = String(cliPort++);
  const url = `http://127.0.0.1:${port}/mcp`;
  const args = [cli, '--upstream', upstreamUrl, '--port', port, '--store', `sqlite:${storeFile}`, ...extraArgs];
  const command = hasTaskset ? 'taskset' : process.execPath;
  const gateway = await startListening(command, hasTaskset ? ['-c', '0', process.execPath, ...args] : args, url, env);
  return { url, cpu: async () => ({ user: cpuMicros(gateway.pid), system: 0 }), stop: gateway.stop };
}

const started = new Set();
// A benchmark that fails must not leave its servers (and their children) running.
process.on('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/** Starts `command args`, resolves once `url` accepts connections. */
export async function startListening(command, args, url, env = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  started.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  exited.then(() => started.delete(child));
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(url, { method: 'GET' });
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** User + system CPU time of a process, in µs. */
export function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1e6 / 100);
}

/** Every process below `pid` (children, grandchildren...), from the process table. */
export function descendants(pid) {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number));
  const found = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift();
    for (const [child, ppid] of rows) {
      if (ppid !== parent) continue;
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Proportional set size of the processes, in bytes (shared pages split between sharers). */
export function pss(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      const kb = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      total += Number(kb?.[1] ?? 0) * 1024;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
