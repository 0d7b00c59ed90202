/**
 * @module cli/gateway/gateway-command
 * `sessiongate --upstream URL`: the gateway. Downstream it is the session server (every rule,
 * cap, expiry and identity binding); toward the upstream it is a session client that
 * re-initializes transparently. `--demo-upstream` puts the bundled demo server behind it.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuditLog, audited, fanout, sessionCreated, sessionEnded } from '../../gateway/ops/audit.js';
import { eraRouter, type UpstreamEra } from '../../gateway/eras/era-router.js';
import type { HeaderPolicyOptions } from '../../gateway/upstreams/http/header-policy.js';
import { GatewayMetrics } from '../../gateway/ops/metrics.js';
import { adminApi, RecentEvents } from '../../gateway/ops/admin.js';
import { httpUpstream } from '../../gateway/upstreams/http/http-upstream.js';
import { DEFAULT_UPSTREAM_CONCURRENCY, FairSlots } from '../../gateway/upstreams/fair-slots.js';
import { keepAliveAgent, SHARED_POOL_CONNECTIONS } from '../../client/http.js';
import type { Dispatcher } from 'undici';
import type { McpApplication } from '../../server/application.js';
import { stdioUpstream } from '../../gateway/upstreams/stdio/stdio-upstream.js';
import { ChildLedger } from '../../gateway/upstreams/stdio/child-ledger.js';
import { type ChildVariable, childEnvironment, parseChildVariable } from '../../gateway/upstreams/stdio/child-environment.js';
import { LOCAL_HOSTNAMES } from '../../server/origin.js';
import { createSessionServer } from '../../server/session-server.js';
import { demoApplication } from '../demo/demo-command.js';
import { report, runSessionServer } from '../run-server.js';
import { addSessionFlags, parser, sessionFlags } from '../session-flags.js';
import { applyConfigFile, envOption } from '../config-file.js';
import { parseCount, parseDuration, parseSize } from '../units.js';
import { totalmem } from 'node:os';
import { probeHttp, probeStdio } from './startup-checks.js';
import { connectionSaturation, readinessRoute } from './readiness.js';
import type { SessionManager } from '../../session/session-manager.js';

export const DEFAULT_GATEWAY_STORE = 'sqlite:.sessiongate/sessions.db';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function parseUpstream(text: string): string {
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
  } catch {
    // fall through
  }
  throw new InvalidArgumentError(`invalid upstream "${text}" (use e.g. http://127.0.0.1:3000/mcp)`);
}

function parseHeaderName(text: string, previous: string[] = []): string[] {
  if (!TOKEN.test(text)) throw new InvalidArgumentError(`invalid header name "${text}"`);
  return [...previous, text.toLowerCase()];
}

function parseHeader(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon).trim() : '';
  if (!TOKEN.test(name)) throw new InvalidArgumentError(`invalid header "${text}" (use "NAME: VALUE")`);
  return { ...previous, [name.toLowerCase()]: text.slice(colon + 1).trim() };
}

export function configureGateway(program: Command): Command {
  addSessionFlags(program, { store: DEFAULT_GATEWAY_STORE });
  program
    .addOption(envOption('--config <file>', 'read settings from a JSON file keyed by flag name (flags and SESSIONGATE_* variables win)'))
    .addOption(
      envOption(
        '--upstream <url>',
        'the MCP server to put behind sessions (Streamable HTTP); repeat for replicas of it (a pool)',
      ).argParser((text, previous?: string[]) => [...(previous ?? []), parseUpstream(text)]),
    )
    .addOption(
      envOption('--stdio <command>', 'run this MCP server command, one process per session ("COMMAND ARGS")').argParser(parseCommand),
    )
    .addOption(
      envOption(
        '--stdio-env <variable>',
        'stdio: give the child NAME (copied from this environment) or NAME=VALUE (repeatable; SESSIONGATE_* never)',
      ).argParser(parseStdioEnv),
    )
    .addOption(
      envOption(
        '--child-idle-timeout <duration>',
        'stdio: stop the child of a session idle this long (the session lives on; its next request starts a fresh one), or off',
      )
        .argParser(parseChildIdle)
        .default(DEFAULT_CHILD_IDLE_MS, '5m'),
    )
    .addOption(
      envOption(
        '--child-ledger <dir>',
        'stdio: where running children are written down, so the next start stops those a killed gateway left (or off)',
      ).default(undefined, '$TMPDIR/sessiongate-UID/children'),
    )
    .addOption(envOption('--spares <n>', 'stdio: pre-spawned spare processes').argParser(parseSpares).default(2))
    .addOption(
      envOption(
        '--max-message-size <size>',
        'largest message accepted from an upstream or a child (past it: that call fails; a child is restarted)',
      )
        .argParser(parser(parseSize))
        .default(16 * 1024 * 1024, '16mb'),
    )
    .addOption(
      envOption(
        '--upstream-concurrency <n>',
        'HTTP: requests sent upstream at once (its connections), shared fairly among sessions (past it they wait their turn)',
      )
        .argParser(parser(parseCount))
        .default(DEFAULT_UPSTREAM_CONCURRENCY),
    )
    .addOption(envOption('--demo-upstream', 'put the bundled demo MCP server behind the gateway (what `npm start` runs)'))
    .addOption(envOption('--audit <target>', 'audit log: a file (appended) or stdout'))
    .addOption(
      envOption('--admin-token <token>', 'enable the admin API under /admin/ for this bearer token (>= 16 characters)').argParser(
        parseToken,
      ),
    )
    .addOption(
      envOption('--upstream-era <era>', 'auto (probe once with server/discover) | handshake | sessionless (2026-07-28)')
        .choices(['auto', 'handshake', 'sessionless'])
        .default('auto'),
    )
    .addOption(
      envOption('--without-correlation-id <policy>', 'sessionless clients with no Mcp-Client-Session-Id: principal (share one) | request')
        .choices(['principal', 'request'])
        .default('principal'),
    )
    .addOption(envOption('--forward-header <name>', 'copy this client request header upstream (repeatable)').argParser(parseHeaderName))
    .addOption(envOption('--upstream-header <header>', 'send "NAME: VALUE" upstream on every request (repeatable)').argParser(parseHeader));
  return program.action(async (values: Record<string, unknown>) => {
    if (typeof values['config'] === 'string') {
      try {
        applyConfigFile(program, values['config']);
      } catch (error) {
        fail((error as Error).message);
      }
      values = program.opts();
    }
    const flags = sessionFlags(values);
    // Children cost memory whether their sessions work or not: stdio sessions get a cap by default.
    if (values['stdio'] && flags.maxSessions === undefined) flags.maxSessions = defaultStdioSessionCap();
    const pool = values['upstream'] as string[] | undefined;
    let upstream = pool?.[0];
    const stdio = values['stdio'] as string[] | undefined;
    if (stdio) {
      if (upstream || values['demoUpstream']) fail('--stdio excludes --upstream and --demo-upstream');
      if (values['upstreamEra'] === 'sessionless')
        fail('--upstream-era sessionless needs an HTTP --upstream (stdio servers speak the handshake era)');
      const [command, ...args] = stdio as [string, ...string[]];
      // Only what the operator names reaches the child (child-environment.ts).
      const env = childEnvironment((values['stdioEnv'] as ChildVariable[] | undefined) ?? []);
      const ledger = await reapOrphans(values['childLedger'] as string | undefined);
      const problem = await probeStdio({ command, args, env });
      if (problem) fail(problem);
      const application = stdioUpstream({
        command,
        args,
        env,
        spares: values['spares'] as number,
        childIdleTimeoutMs: values['childIdleTimeout'] as number,
        maxMessageLength: values['maxMessageSize'] as number,
        ...(ledger ? { ledger } : {}),
        onError: report,
      });
      await serve(application, [`  upstream: stdio ${stdio.join(' ')} (one process per session)`], undefined, undefined);
      return;
    }
    let stopDemo: (() => Promise<void>) | undefined;
    if (values['demoUpstream']) {
      if (upstream) fail('--upstream and --demo-upstream exclude each other');
      ({ url: upstream, stop: stopDemo } = await startDemoUpstream());
    }
    if (!upstream) fail("required option '--upstream <url>' not specified (or --stdio, --demo-upstream)");
    // A pool starts when one replica answers; the others join as health checks find them.
    const headers = {
      forwardHeaders: values['forwardHeader'] as string[] | undefined,
      upstreamHeaders: values['upstreamHeader'] as Record<string, string> | undefined,
    };
    if (!values['demoUpstream']) await checkUpstreams(pool ?? [upstream], headers.upstreamHeaders);
    if (pool && pool.length > 1 && values['upstreamEra'] === 'sessionless') fail('--upstream-era sessionless takes one --upstream');
    // One set of turns and one pool of connections for every path to the upstream (fair-slots.ts).
    const concurrency = values['upstreamConcurrency'] as number;
    const upstreamLink = {
      slots: new FairSlots(concurrency),
      ...(concurrency === SHARED_POOL_CONNECTIONS ? {} : { dispatcher: keepAliveAgent(concurrency) }),
    };
    const application = httpUpstream({
      url: pool ?? [upstream],
      ...headers,
      ...upstreamLink,
      maxMessageBytes: values['maxMessageSize'] as number,
      onError: report,
    });
    const shown = values['demoUpstream']
      ? `bundled demo at ${upstream}`
      : (pool ?? [upstream]).map((url) => new URL(url).origin + new URL(url).pathname).join(', ');
    await serve(application, [`  upstream: ${shown} (era: ${String(values['upstreamEra'])})`], stopDemo, {
      url: upstream,
      ...headers,
      ...upstreamLink,
    });

    /**
     * Both eras (era-router.ts), audit (when asked) and metrics around the upstream application,
     * then the shared serving steps.
     */
    async function serve(
      handshake: McpApplication,
      summary: string[],
      stop: (() => Promise<void>) | undefined,
      http: ({ url: string; slots: FairSlots; dispatcher?: Dispatcher } & HeaderPolicyOptions) | undefined,
    ): Promise<void> {
      const app = eraRouter({
        handshake,
        ...http,
        era: http ? (values['upstreamEra'] as UpstreamEra | 'auto') : 'handshake',
        withoutCorrelationId: values['withoutCorrelationId'] as 'principal' | 'request',
        onError: report,
        onConversation: (record) => events.write(sessionCreated(record)),
      });
      const target = values['audit'] as string | undefined;
      const audit = target === undefined ? undefined : new AuditLog(target);
      let sessions: SessionManager | undefined = undefined;
      let listener: Server | undefined = undefined;
      const metrics = new GatewayMetrics({
        liveSessions: async () => (await sessions?.count()) ?? 0,
        undeliveredMessages: () => sessions?.undelivered ?? 0,
        upstreamWaiting: () => http?.slots.waiting ?? 0,
      });
      const token = values['adminToken'] as string | undefined;
      const recent = token === undefined ? undefined : new RecentEvents();
      const events = fanout(audit, metrics, recent);
      let admin: ReturnType<typeof adminApi> | undefined;
      const { server, listening } = await runSessionServer('sessiongate gateway', audited(app, events), flags, {
        summary: [...summary, ...(target ? [`  audit: ${target}`] : [])],
        routes: {
          '/readyz': readinessRoute({
            store: () => sessions,
            upstreams: http ? (pool ?? [http.url]) : [],
            upstreamHeaders: http?.upstreamHeaders,
            saturation: connectionSaturation(() => listener, flags.maxConnections),
          }),
          '/metrics': async (req, res) => {
            if (req.method !== 'GET') return void res.writeHead(405, { allow: 'GET' }).end();
            const text = await metrics.text();
            res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
          },
          // Not mounted without a token: /admin/ is then an ordinary 404.
          ...(token ? { '/admin/': (req: IncomingMessage, res: ServerResponse, path: string) => admin!(req, res, path) } : {}),
        },
        async onShutdown() {
          await stop?.();
          await audit?.close();
        },
      });
      sessions = server.sessions;
      listener = listening.http;
      if (token && recent) admin = adminApi(server.sessions, token, recent);
      server.sessions.onEnd((record, reason) => events.write(sessionEnded(record, reason)));
      process.stdout.write(`  metrics: ${listening.url.replace(/\/mcp$/, '/metrics')}\n`);
    }
  });
}

function parseToken(text: string): string {
  if (!/^[\x21-\x7e]{16,}$/.test(text)) throw new InvalidArgumentError('the admin token must be at least 16 visible ASCII characters');
  return text;
}

/** "COMMAND ARGS" with single or double quotes for arguments holding spaces. */
function parseCommand(text: string): string[] {
  const words: string[] = [];
  for (const match of text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(match[1] ?? match[2] ?? match[3]!);
  if (words.length === 0) throw new InvalidArgumentError('empty command');
  return words;
}

const DEFAULT_CHILD_IDLE_MS = 5 * 60_000;

function parseChildIdle(text: string): number {
  if (text === 'off') return 0;
  try {
    return parseDuration(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/**
 * The default cap on stdio sessions: one per 128 MiB of the machine's memory (a Node MCP server
 * idles at ~60 MB; the margin covers work), between 8 and 1,024 (docs/limits.md).
 */
export function defaultStdioSessionCap(totalBytes = totalmem()): number {
  return Math.min(1024, Math.max(8, Math.floor(totalBytes / (128 * 1024 * 1024))));
}

function parseStdioEnv(text: string, previous: ChildVariable[] = []): ChildVariable[] {
  try {
    return [...previous, parseChildVariable(text)];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** Opens the child ledger (unless off) and stops what a previous run left behind, saying so. */
async function reapOrphans(directory: string | undefined): Promise<ChildLedger | undefined> {
  if (directory === 'off') return undefined;
  try {
    const ledger = new ChildLedger(directory);
    const reaped = await ledger.reapOrphans();
    if (reaped.length > 0)
      process.stderr.write(
        `sessiongate: stopped ${reaped.length} child process(es) a previous run left behind (pids ${reaped.join(', ')})\n`,
      );
    return ledger;
  } catch (error) {
    return fail((error as Error).message);
  }
}

function parseSpares(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 64) throw new InvalidArgumentError(`invalid count "${text}" (0-64)`);
  return value;
}

/**
 * A clear error at start-up instead of errors on every request later: the upstream must answer
 * an initialize as an MCP server (a pool starts when one replica does; the others join as
 * health checks find them).
 */
async function checkUpstreams(urls: string[], headers: Record<string, string> | undefined): Promise<void> {
  const problems = await Promise.all(urls.map((url) => probeHttp(url, headers)));
  if (problems.some((problem) => problem === undefined)) return;
  fail(`${problems[0]!}${urls.length > 1 ? ' (and no other replica answered)' : ''}`);
}

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

/** The bundled demo on a free loopback port, in this process, sessions in memory. */
async function startDemoUpstream(): Promise<{ url: string; stop: () => Promise<void> }> {
  const demo = createSessionServer({ application: demoApplication(), allowedHosts: LOCAL_HOSTNAMES, onError: report });
  const http = createServer((req, res) => void demo.node(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    async stop() {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      await demo.close();
    },
  };
}
