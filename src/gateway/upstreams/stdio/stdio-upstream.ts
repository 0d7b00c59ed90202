/**
 * @module gateway/upstreams/stdio/stdio-upstream
 * Puts an MCP server that speaks stdio behind sessiongate's sessions: one child process per
 * session (a channel upstream, channel-upstream.ts), taken from a small pool of pre-spawned
 * spares at initialize, stopped (SIGTERM, then SIGKILL) when the session ends for any reason
 * and at shutdown; a child that dies between requests is replaced, the handshake replayed.
 */
import { IDENTITY_META_KEY } from '../../../protocol/request-hygiene.js';
import { checkOptions, option, type OptionsSchema, required } from '../../../protocol/options.js';
import { type McpApplication, plainApplication, type RequestContext } from '../../../server/application.js';
import { ChannelUpstream } from '../channel-upstream.js';
import type { ChildLedger } from './child-ledger.js';
import { SparePool } from './spare-pool.js';
import type { StdioCommand } from './stdio-child.js';

export interface StdioUpstreamOptions extends StdioCommand {
  /** Pre-spawned children kept ready, so initialize does not wait for a process start. Default 2. */
  spares?: number;
  /** Time between SIGTERM and SIGKILL when a child is stopped, in ms. Default 2000. */
  killGraceMs?: number;
  /**
   * A session's child with no traffic either way for this long (ms) is stopped; the session
   * lives on, and its next message starts a fresh child with the stored handshake and
   * session-scoped calls replayed (as after a restart). Not while a request is in flight, nor
   * for a session with resource subscriptions (updates would be lost). Default 5 minutes;
   * 0 keeps children as long as their sessions.
   */
  childIdleTimeoutMs?: number;
  /**
   * Where each child is written down while it runs, so the next start can stop those a killed
   * gateway left behind (`ChildLedger.reapOrphans`). Default: none.
   */
  ledger?: ChildLedger;
  /**
   * Variables each session's child gets from the person it serves, added to `env` when it is
   * started (their own key for the server: docs/CREDENTIALS.md); throwing
   * starts no child. A child is then started for each session: `spares` does not apply. The
   * values never reach the session record, the audit or any log. Default: none.
   */
  personalEnvironment?: (context: RequestContext) => Readonly<Record<string, string>>;
  /**
   * `_meta` entries each request carries for the person it is made for (their own key, in the
   * `_meta` key the server reads it from); throwing sends nothing. Session-scoped calls
   * (`logging/setLevel`, `resources/subscribe`) carry none: they are kept in the session's record
   * to be replayed. Default: none.
   */
  personalMeta?: (context: RequestContext) => Readonly<Record<string, string>>;
  /** A child's stderr line, with the session's short tag (never the id). Default: to stderr. */
  onStderr?: (sessionTag: string | undefined, line: string) => void;
  onError?: (error: unknown) => void;
}

/** What each stdio upstream option must be (docs/errors.md, "Configuration errors"); the CLI's flags check by it too. */
export const stdioUpstreamSchema = {
  command: required(option.string),
  args: required(option.strings('arguments')),
  spares: option.integerIn(0, 64),
  killGraceMs: option.nonNegativeInteger,
  childIdleTimeoutMs: option.nonNegativeNumber,
  maxMessageLength: option.positiveInteger,
  personalEnvironment: option.func,
  personalMeta: option.func,
  onStderr: option.func,
  onError: option.func,
} satisfies OptionsSchema;

export function stdioUpstream(options: StdioUpstreamOptions): McpApplication {
  checkOptions(stdioUpstreamSchema, options);
  const grace = options.killGraceMs ?? 2000;
  const onStderr = options.onStderr ?? ((tag, line) => process.stderr.write(`[${tag ?? 'spare'}] ${line}\n`));
  const spares = new SparePool({
    command: options,
    target: options.spares ?? 2,
    grace,
    ledger: options.ledger,
    onStderr: (line) => onStderr(undefined, line),
    personal: options.personalEnvironment,
  });
  return plainApplication(
    new ChannelUpstream({
      source: spares,
      grace,
      idleMs: options.childIdleTimeoutMs ?? 5 * 60_000,
      onStderr,
      onError: options.onError ?? (() => {}),
      cannotOpen: 'the upstream process could not be started',
      personalMeta: options.personalMeta,
    }),
  );
}

export { IDENTITY_META_KEY };
