/**
 * @module cli/session-flags
 * The session flags, defined and parsed in one place: `demo` uses them now, the gateway later.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { envOption } from './config-file.js';
import { parseCount, parseDuration, parsePort, parseSize } from './units.js';
import { parseStoreSpec, type StoreSpec } from './store-spec.js';
import { LOCAL_HOSTNAMES } from '../server/origin.js';
import { type CapPolicy, sessionOptionsSchema as session } from '../session/options.js';
import { type OptionCheck, problemWith } from '../protocol/options.js';
import { serverOptionsSchema as server } from '../server/options.js';

export interface SessionFlags {
  port: number;
  host: string;
  store: StoreSpec;
  idleTimeoutMs: number;
  maxLifetimeMs: number;
  maxSessions: number | undefined;
  maxSessionsPerPrincipal: number | undefined;
  maxAnonymousSessions: number | undefined;
  onCap: CapPolicy;
  allowedOrigins: string[] | undefined;
  /** Host header names accepted; by default the loopback names when listening on loopback. */
  allowedHosts: string[] | undefined;
  maxBodyBytes: number;
  /** 0: no deadline. */
  requestTimeoutMs: number;
  maxInflightPerSession: number;
  maxInflightPerPrincipal: number;
  /** Resumable streams (docs/RESUMPTION.md); false with `--resume-window off`. */
  resume: { windowMs: number; maxEvents: number } | false;
  shutdownGraceMs: number;
  maxConnections: number;
}

/**
 * Commander calls a parser with the raw text; a thrown message becomes a one-line error naming
 * the flag. `check` is the library option's own check (its schema), so a flag, the config file
 * and the library accept the same values.
 */
export function parser<T>(parse: (text: string) => T, check?: OptionCheck): (text: string) => T {
  return (text) => {
    let value: T;
    try {
      value = parse(text);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
    const problem = check && problemWith(check, value);
    if (problem) throw new InvalidArgumentError(`"${text}": ${problem}`);
    return value;
  };
}

export function addSessionFlags(command: Command, defaults: { store: string }): Command {
  return addRequestFlags(addSessionLimitFlags(addListenFlags(command, defaults)));
}

/** Where the server listens and keeps its sessions, who may reach it, and how it stops. */
function addListenFlags(command: Command, defaults: { store: string }): Command {
  return command
    .addOption(envOption('--port <port>', 'TCP port (0 picks a free one)').argParser(parser(parsePort)).default(8080))
    .addOption(envOption('--host <host>', 'interface to listen on').default('127.0.0.1'))
    .addOption(
      envOption(
        '--store <store>',
        'memory | sqlite:PATH | redis://HOST:PORT | redis-cluster://HOST:PORT,... | redis-sentinel://HOST:PORT,.../MASTER',
      )
        .argParser(parser(parseStoreSpec))
        .default(parseStoreSpec(defaults.store), defaults.store),
    )
    .addOption(
      envOption('--allowed-origins <list>', 'comma-separated allowed Origins, * for any (default: same host and localhost)').argParser(
        parser(parseOrigins, server.allowedOrigins),
      ),
    )
    .addOption(
      envOption(
        '--allowed-hosts <list>',
        'comma-separated Host names accepted (default: localhost names when --host is loopback, else any)',
      ).argParser(parser(parseHosts, server.allowedHosts)),
    )
    .addOption(
      envOption('--max-connections <n>', 'connections open at once, GET streams included (more are refused)')
        .argParser(parser(parseCount))
        .default(1024),
    )
    .addOption(
      envOption('--shutdown-grace <duration>', 'on SIGTERM, how long calls under way may finish before they are answered and closed')
        .argParser(parser(parseDuration))
        .default(10_000, '10s'),
    );
}

/** How long sessions live and how many there may be. */
function addSessionLimitFlags(command: Command): Command {
  return command
    .addOption(
      envOption('--idle-timeout <duration>', 'end sessions idle this long')
        .argParser(parser(parseDuration, session.idleTimeoutMs))
        .default(30 * 60_000, '30m'),
    )
    .addOption(
      envOption('--max-lifetime <duration>', 'end sessions this long after initialize')
        .argParser(parser(parseDuration, session.maxLifetimeMs))
        .default(24 * 3_600_000, '24h'),
    )
    .addOption(envOption('--max-sessions <n>', 'cap on live sessions (503 past it)').argParser(parser(parseCount, session.maxSessions)))
    .addOption(
      envOption('--max-sessions-per-principal <n>', 'cap on live sessions per principal').argParser(
        parser(parseCount, session.maxSessionsPerPrincipal),
      ),
    )
    .addOption(
      envOption(
        '--max-anonymous-sessions <n>',
        'cap on live sessions without an Authorization header, all together (default: --max-sessions-per-principal)',
      ).argParser(parser(parseCount, session.maxAnonymousSessions)),
    )
    .addOption(
      envOption(
        '--on-cap <policy>',
        "past a cap: reject (503) | evict (end the caller's own least recently used session) | evict-any (past --max-sessions, anyone's)",
      )
        .choices(['reject', 'evict', 'evict-any'])
        .default('reject'),
    );
}

/** What one request may be and how many may be in flight. */
function addRequestFlags(command: Command): Command {
  return command
    .addOption(
      envOption('--max-body <size>', 'largest POST body')
        .argParser(parser(parseSize, server.maxBodyBytes))
        .default(4 * 1024 * 1024, '4mb'),
    )
    .addOption(
      envOption('--request-timeout <duration>', 'answer -32001 to a request with no answer or progress for this long, or off')
        .argParser(parser(parseDurationOrOff, server.requestTimeoutMs))
        .default(120_000, '2m'),
    )
    .addOption(
      envOption('--max-inflight-per-session <n>', 'requests in flight per session (429 past it)')
        .argParser(parser(parseCount, server.maxInflightPerSession))
        .default(32),
    )
    .addOption(
      envOption('--max-inflight-per-principal <n>', 'requests in flight per principal, anonymous callers together (429 past it)')
        .argParser(parser(parseCount, server.maxInflightPerPrincipal))
        .default(256),
    )
    .addOption(
      envOption(
        '--resume-window <duration>',
        "keep a stream's events this long after its last one, for resumption with Last-Event-ID; off: no event ids, and a disconnect cancels",
      )
        .argParser(parser(parseDurationOrOff))
        .default(300_000, '5m'),
    )
    .addOption(
      envOption('--resume-max-events <n>', 'events kept per stream for resumption (the oldest go first)')
        .argParser(parser(parseCount))
        .default(1000),
    );
}

function parseDurationOrOff(text: string): number {
  return text.trim().toLowerCase() === 'off' ? 0 : parseDuration(text);
}

function parseOrigins(text: string): string[] {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw new Error(`invalid origin list "${text}"`);
  for (const origin of list) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin))
      throw new Error(`invalid origin "${origin}" (use e.g. https://app.example.com)`);
  }
  return list;
}

function parseHosts(text: string): string[] {
  const list = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  if (list.length === 0 || list.some((h) => !/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(h)))
    throw new Error(`invalid host list "${text}" (use e.g. localhost,mcp.example.com)`);
  return list;
}

/** Host names that mean this machine only. */
export const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;

/** Commander's option values to typed flags. */
export function sessionFlags(values: Record<string, unknown>): SessionFlags {
  return {
    port: values['port'] as number,
    host: values['host'] as string,
    store: values['store'] as StoreSpec,
    idleTimeoutMs: values['idleTimeout'] as number,
    maxLifetimeMs: values['maxLifetime'] as number,
    maxSessions: values['maxSessions'] as number | undefined,
    maxSessionsPerPrincipal: values['maxSessionsPerPrincipal'] as number | undefined,
    maxAnonymousSessions: values['maxAnonymousSessions'] as number | undefined,
    onCap: values['onCap'] as CapPolicy,
    allowedOrigins: values['allowedOrigins'] as string[] | undefined,
    // S10 "bind to localhost when serving locally" and DNS rebinding: a loopback listener only
    // answers requests addressed to a loopback name.
    allowedHosts:
      (values['allowedHosts'] as string[] | undefined) ?? (LOOPBACK.test(values['host'] as string) ? [...LOCAL_HOSTNAMES] : undefined),
    maxBodyBytes: values['maxBody'] as number,
    requestTimeoutMs: values['requestTimeout'] as number,
    maxInflightPerSession: values['maxInflightPerSession'] as number,
    maxInflightPerPrincipal: values['maxInflightPerPrincipal'] as number,
    resume:
      values['resumeWindow'] === 0 ? false : { windowMs: values['resumeWindow'] as number, maxEvents: values['resumeMaxEvents'] as number },
    shutdownGraceMs: values['shutdownGrace'] as number,
    maxConnections: values['maxConnections'] as number,
  };
}
