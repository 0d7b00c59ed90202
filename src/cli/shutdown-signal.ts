/**
 * @module cli/shutdown-signal
 * SIGTERM/SIGINT: a serving command stops once, cleanly (run-server.ts), then exits.
 */

/** Runs `stop` once on SIGTERM or SIGINT, then exits. */
export function onShutdownSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`sessiongate: ${signal} received, shutting down\n`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`sessiongate: shutdown failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
