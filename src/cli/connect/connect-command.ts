/**
 * @module cli/connect/connect-command
 * `sessiongate connect URL`: the stdio front door (docs/CONNECT.md). A desktop client launches
 * it as a local MCP server; it carries every message to the remote endpoint with the
 * self-healing client (client/stdio-bridge.ts). Headers may name environment variables
 * (`--header "Authorization: Bearer ${TOKEN}"`), so a token lives in the client's `env`
 * setting, not in a process list. Exits when stdin ends or on SIGTERM/SIGINT, ending the
 * session (DELETE) first.
 */
import { Command, InvalidArgumentError } from 'commander';
import { bridgeStdio } from '../../client/stdio-bridge.js';
import { isValidClientSessionId } from '../../protocol/headers.js';

interface ConnectFlags {
  header: Record<string, string>;
  clientSessionId?: string;
  correlationId: boolean;
}

export function connectCommand(): Command {
  return new Command('connect')
    .description(
      'be a local stdio MCP server for a desktop client, forwarding to a remote endpoint that stays connected (replaces mcp-remote)',
    )
    .argument('<url>', 'the remote MCP endpoint (http or https)', parseUrl)
    .option('--header <"Name: value">', 'a header sent on every request; ${VAR} is read from the environment (repeatable)', addHeader, {})
    .option('--client-session-id <id>', 'the correlation id to send (default: a new UUID per run)', parseClientSessionId)
    .option('--no-correlation-id', 'send no correlation id (Mcp-Client-Session-Id)')
    .action(async (url: URL, flags: ConnectFlags) => {
      const log = (line: string): void => void process.stderr.write(`sessiongate connect: ${line}\n`);
      const bridge = await bridgeStdio(url, {
        headers: flags.header,
        clientSessionId: flags.correlationId ? flags.clientSessionId : false,
        log,
      });
      const stop = (): void => void bridge.close();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      await bridge.closed;
      process.exit(0);
    });
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('must be an http or https URL');
  return url;
}

/** `Name: value`, its `${VAR}` read from the environment (a missing variable is an error, never an empty token). */
function addHeader(text: string, headers: Record<string, string>): Record<string, string> {
  const colon = text.indexOf(':');
  const name = text.slice(0, colon).trim();
  if (colon <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new InvalidArgumentError('must be "Name: value"');
  const value = text
    .slice(colon + 1)
    .trim()
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, variable: string) => {
      const set = process.env[variable];
      if (set === undefined) throw new InvalidArgumentError(`the environment variable ${variable} is not set`);
      return set;
    });
  return { ...headers, [name.toLowerCase()]: value };
}

function parseClientSessionId(text: string): string {
  if (!isValidClientSessionId(text)) throw new InvalidArgumentError('must be 1 to 128 visible ASCII characters');
  return text;
}
