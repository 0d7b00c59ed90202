/**
 * @module cli/main
 * The `sessiongate` command. A bad flag exits non-zero with a one-line error naming it.
 */
import { Command } from 'commander';
import { VERSION } from './version.js';

/**
 * Each subcommand is loaded only when it runs (or for help): `sessiongate keys list` does not
 * load the gateway, the SDK or the stores.
 */
const SUBCOMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  demo: async () => (await import('./demo/demo-command.js')).demoCommand(),
  keys: async () => (await import('./keys/keys-command.js')).keysCommand(),
  policy: async () => (await import('./policy/policy-command.js')).policyCommand(),
  audit: async () => (await import('./audit/audit-command.js')).auditCommand(),
  pins: async () => (await import('./pins/pins-command.js')).pinsCommand(),
  connect: async () => (await import('./connect/connect-command.js')).connectCommand(),
};

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
  const first = argv[2];
  const named = first !== undefined && Object.hasOwn(SUBCOMMANDS, first) ? SUBCOMMANDS[first] : undefined;
  const help = argv.includes('--help') || argv.includes('-h');
  // A subcommand: that one alone. Flags only: the gateway alone. Help or an unknown word: all, so both list them.
  if (named) program.addCommand(await named());
  else if (help || (first !== undefined && !first.startsWith('-')))
    for (const load of Object.values(SUBCOMMANDS)) program.addCommand(await load());
  const versionOnly = first === '--version' || first === '-V';
  if (!named && !versionOnly) (await import('./gateway/gateway-command.js')).configureGateway(program);
  await program.parseAsync(argv);
}

main(process.argv).catch((error: unknown) => {
  const cause = (error as Error).cause;
  // The library's own messages start with "sessiongate: " already (an option it refused).
  const message = (error as Error).message.replace(/^sessiongate: /, '');
  process.stderr.write(`sessiongate: ${message}${cause instanceof Error ? `: ${cause.message}` : ''}\n`);
  process.exit(1);
});
