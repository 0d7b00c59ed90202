/**
 * The gateway `sessiongate ARGS` runs, started in the test's own process (`gatewayFromArgs`,
 * cli/gateway/gateway-command.ts: the same flags, plan and `createGateway` call as the command).
 * For every gateway rule that needs no process of its own: a start of the real command costs
 * about 0.6 s of CPU, and the suite is CPU-bound (bench/RESULTS.md, "The suite's time"). A test
 * that kills the gateway, restarts it, reads its exit code, its child processes or everything
 * the process writes, or passes it environment variables starts the real command
 * (demo-process.ts).
 */
import { gatewayFromArgs } from '../../src/cli/gateway/gateway-command.js';

export interface InProcessGateway {
  url: string;
  /** What the command would print: its stderr lines (warnings, errors, children's output), then its summary. */
  output(): string;
  /** Stops it as SIGTERM stops the command (drain, end sessions, close); resolves with 0 like a clean exit. */
  kill(): Promise<number>;
}

export async function startGateway(args: string[]): Promise<InProcessGateway> {
  const printed: string[] = [];
  const served = await gatewayFromArgs(args, (line) => printed.push(line));
  let stopped: Promise<number> | undefined;
  return {
    url: served.url,
    output: () => [...printed, ...served.summary].map((line) => `${line}\n`).join(''),
    kill: () => (stopped ??= served.stop().then(() => 0)),
  };
}
