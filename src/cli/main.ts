/**
 * @module cli/main
 * The `sessiongate` command. A bad flag exits non-zero with a one-line error naming it.
 */
import { Command } from 'commander';
import { connectCommand } from './connect/connect-command.js';
import { demoCommand } from './demo/demo-command.js';
import { configureGateway } from './gateway/gateway-command.js';
import { auditCommand } from './audit/audit-command.js';
import { keysCommand } from './keys/keys-command.js';
import { policyCommand } from './policy/policy-command.js';
import { VERSION } from './version.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('sessiongate')
    .description('MCP session management: spec-exact sessions, durable stores, a session-aware gateway')
    .version(VERSION)
    // Program options only before a subcommand: `demo` has the same session flags.
    .enablePositionalOptions()
    .showHelpAfterError(false)
    .exitOverride((error) => {
      // Commander already printed the one-line message; help and version exit 0.
      process.exit(error.exitCode);
    });
  program.addCommand(demoCommand());
  program.addCommand(keysCommand());
  program.addCommand(policyCommand());
  program.addCommand(auditCommand());
  program.addCommand(connectCommand());
  configureGateway(program);
  await program.parseAsync(argv);
}

main(process.argv).catch((error: unknown) => {
  const cause = (error as Error).cause;
  process.stderr.write(`sessiongate: ${(error as Error).message}${cause instanceof Error ? `: ${cause.message}` : ''}\n`);
  process.exit(1);
});
