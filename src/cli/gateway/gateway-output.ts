/**
 * @module cli/gateway/gateway-output
 * Where the gateway command's own lines go: its warnings, the errors it reports while serving,
 * and what its stdio children print. The command points them at stderr; `gatewayFromArgs` at
 * whatever its caller gives, so a gateway built in a test's process keeps every line the
 * command would have printed, and prints nothing of its own.
 */
export interface GatewayOutput {
  /** A line exactly as the command writes it. */
  readonly print: (line: string) => void;
  /** `sessiongate: LINE`. */
  readonly warn: (line: string) => void;
  /** An error met while serving, as `sessiongate: MESSAGE`. */
  readonly report: (error: unknown) => void;
}

export function gatewayOutput(print: (line: string) => void): GatewayOutput {
  const warn = (line: string): void => print(`sessiongate: ${line}`);
  return { print, warn, report: (error) => warn((error as Error).message) };
}
