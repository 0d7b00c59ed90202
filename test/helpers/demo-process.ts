/**
 * The `sessiongate` command as a real child process, for CLI, gateway, restart and kill -9
 * tests: one helper for every way the tests start it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/sessiongate.js', import.meta.url));

export interface DemoProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  output: () => string;
  /** Signals the process and resolves with its exit code (null when killed by the signal). */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `sessiongate ARGS` and resolves once it has printed its start-up summary. */
export async function startCli(args: string[], env: Record<string, string> = {}): Promise<DemoProcess> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sessiongate did not start: ${output}`)), 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (\S+)/.exec(output);
      if (match && output.includes('health:')) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sessiongate exited with ${code}: ${output}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    child,
    output: () => output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill(signal);
      return exited;
    },
  };
}

/** `sessiongate demo --port 0 ARGS`. */
export function startDemo(args: string[]): Promise<DemoProcess> {
  return startCli(['demo', '--port', '0', ...args]);
}

/** Runs the CLI to completion (for flag errors). */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
