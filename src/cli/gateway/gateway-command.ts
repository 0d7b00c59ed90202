/**
 * @module cli/gateway/gateway-command
 * `sessiongate --upstream URL`: the gateway. Downstream it is the session server (every rule,
 * cap, expiry and identity binding); toward the upstream it is a session client that
 * re-initializes transparently. `--stdio` puts a stdio server behind it (one process per
 * session); `--demo-upstream` the bundled demo server; `--server NAME=...` (repeated) many servers
 * behind one endpoint (federation-plan.ts).
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { keepAliveAgent, SHARED_POOL_CONNECTIONS } from '../../client/http.js';
import { FairSlots } from '../../gateway/upstreams/fair-slots.js';
import { httpUpstream } from '../../gateway/upstreams/http/http-upstream.js';
import { ChildLedger } from '../../gateway/upstreams/stdio/child-ledger.js';
import { childEnvironment } from '../../gateway/upstreams/stdio/child-environment.js';
import { stdioUpstream } from '../../gateway/upstreams/stdio/stdio-upstream.js';
import { sseUpstream } from '../../gateway/upstreams/sse/sse-upstream.js';
import { applyConfigFile } from '../config-file.js';
import { addSessionFlags, LOOPBACK, type SessionFlags, sessionFlags } from '../session-flags.js';
import type { ServerSpec } from './server-specs.js';
import { addGatewayFlags, type GatewayFlags, gatewayFlags } from './gateway-flags.js';
import { gatewayAuth, type GatewayAuth } from './gateway-auth.js';
import { serveGateway, type GatewayPlan, type HttpUpstreamLink, type ServedGateway } from './serve-gateway.js';
import { onShutdownSignal } from '../shutdown-signal.js';
import { gatewayOutput, type GatewayOutput } from './gateway-output.js';
import { probeHttpSse, probePool, probeStdio } from '../../gateway/upstreams/upstream-probes.js';
import { federationPlan } from './federation-plan.js';
import { upstreamTokenExchange } from './gateway-token-exchange.js';
import { personalKey, upstreamCredentials } from './gateway-credentials.js';
import type { CredentialBroker } from '../../gateway/credentials/credential-broker.js';
import { gatewayPolicy, type GatewayPolicy } from './gateway-policy.js';
import type { TokenExchange } from '../../auth/token-exchange.js';
import type { RequestContext } from '../../server/application.js';
import type { PolicyRule } from '../../policy/policy-document.js';
import { DEFAULT_GATEWAY_STORE } from '../store-spec.js';

export function configureGateway(program: Command): Command {
  addGatewayFlags(addSessionFlags(program, { store: DEFAULT_GATEWAY_STORE }));
  return program.action(async (values: Record<string, unknown>) => {
    const output = gatewayOutput((line) => process.stderr.write(`${line}\n`));
    const served = await startGateway(program, values, output).catch((error: unknown) => {
      if (!(error instanceof StartRefused)) throw error;
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(1);
    });
    onShutdownSignal(() => served.stop());
    process.stdout.write(served.summary.map((line) => `${line}\n`).join(''));
    const configFile = values['config'];
    if (typeof configFile === 'string') reloadOnHangUp(program, configFile, served.reloadServers);
  });
}

/**
 * The gateway `sessiongate ARGS` runs, started in this process: what the command does short of
 * printing and handling signals. Tests use it for every rule that needs no process of its own.
 */
export async function gatewayFromArgs(args: readonly string[], print: (line: string) => void = () => {}): Promise<StartedGateway> {
  const program = addGatewayFlags(addSessionFlags(new Command('sessiongate'), { store: DEFAULT_GATEWAY_STORE }))
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  program.parse(args, { from: 'user' });
  return startGateway(program, program.opts(), gatewayOutput(print));
}

/** The gateway running, and what SIGHUP applies live (docs/FEDERATION.md, "Reloading"). */
export interface StartedGateway extends ServedGateway {
  reloadServers?: (specs: readonly ServerSpec[]) => Promise<string>;
}

/** A flag combination or an upstream that stops the start, in one line (printed as `error: ...`). */
export class StartRefused extends Error {
  override readonly name = 'StartRefused';
}

async function startGateway(program: Command, values: Record<string, unknown>, output: GatewayOutput): Promise<StartedGateway> {
  const { warn } = output;
  if (typeof values['config'] === 'string') {
    try {
      applyConfigFile(program, values['config']);
    } catch (error) {
      fail((error as Error).message);
    }
    values = program.opts();
  }
  const session = sessionFlags(values);
  const flags = gatewayFlags(values);
  let auth: GatewayAuth;
  try {
    auth = gatewayAuth(flags, warn);
  } catch (error) {
    fail((error as Error).message);
  }
  if (flags.auth === 'none' && !LOOPBACK.test(session.host)) {
    warn(`warning: --auth none on ${session.host}: anyone who reaches it can open sessions (see --auth jwt)`);
  }
  let policy: GatewayPolicy | undefined;
  try {
    policy = flags.policy === undefined ? undefined : gatewayPolicy(flags.policy, warn);
  } catch (error) {
    auth.close?.();
    fail(`--policy ${(error as Error).message}`);
  }
  const personal = flags.auth === 'none' ? policy?.current().document.rules.filter(namesPeople) : undefined;
  if (personal && personal.length > 0) {
    warn(
      `warning: --auth none, so every caller is anonymous, yet rules name people (${personal.map((rule) => rule.id).join(', ')}): they match nobody (see --auth jwt)`,
    );
  }
  if (policy?.current().document.rules.some((rule) => rule.approver === 'operator') && !flags.adminToken) {
    warn('warning: the policy asks operators to approve calls, but without --admin-token nobody can: they will time out');
  }
  const reap = (): Promise<ChildLedger | undefined> => reapOrphans(flags.childLedger, warn);
  // Refused before it served: what it opened is let go (a test runs many starts in one process).
  const refused = (error: unknown): never => {
    auth.close?.();
    policy?.close();
    throw error;
  };
  const plan = await (
    flags.servers
      ? federationPlan(flags, flags.servers, session, reap, defaultStdioSessionCap, output).catch((error: Error) => fail(error.message))
      : flags.stdio
        ? stdioPlan(flags, flags.stdio, session, reap, output)
        : flags.upstreamTransport === 'sse'
          ? ssePlan(flags, output)
          : httpPlan(flags, output)
  ).catch(refused);
  // Every session costs memory whether it works or not: bounded by default (docs/limits.md, "Sessions").
  session.maxSessions ??= defaultSessionCap();
  session.maxSessionsPerPrincipal ??= DEFAULT_SESSIONS_PER_PRINCIPAL;
  if (policy)
    plan.summary.push(
      `  policy: ${flags.policy} (${policy.current().document.rules.length} rules, default ${policy.current().document.default ?? 'deny'})`,
    );
  const served = await serveGateway({ ...plan, auth, ...(policy && { policy }) }, session, flags, output.report).catch(refused);
  return { ...served, ...(plan.reloadServers && { reloadServers: plan.reloadServers }) };
}

/**
 * SIGHUP reads the config file again (docs/FEDERATION.md, "Reloading"): the `servers` it lists
 * are applied live (when the command line gave none); any other setting that changed is named,
 * to take effect at the next start. The policy file has its own reload (gateway-policy.ts).
 */
function reloadOnHangUp(
  program: Command,
  path: string,
  reloadServers: ((specs: readonly ServerSpec[]) => Promise<string>) | undefined,
): void {
  const serversFromFile = program.getOptionValueSource('server') === 'config';
  let loaded = settingsIn(path);
  process.on('SIGHUP', () => {
    void (async () => {
      const now = settingsIn(path);
      const fresh = addGatewayFlags(addSessionFlags(new Command(), { store: DEFAULT_GATEWAY_STORE }));
      applyConfigFile(fresh, path);
      const changed = [...new Set([...Object.keys(loaded), ...Object.keys(now)])].filter(
        (key) => key !== 'servers' && key !== 'server' && JSON.stringify(loaded[key]) !== JSON.stringify(now[key]),
      );
      const lines: string[] = [];
      if (reloadServers && serversFromFile) lines.push(await reloadServers((fresh.opts()['server'] as ServerSpec[] | undefined) ?? []));
      else if (JSON.stringify(loaded['servers']) !== JSON.stringify(now['servers']))
        lines.push('servers in the file not applied: the command line names the servers (or this gateway fronts one upstream)');
      if (changed.length > 0) lines.push(`changed in the file, applied at the next start: ${changed.join(', ')}`);
      loaded = now;
      process.stderr.write(`sessiongate: SIGHUP: ${path}: ${lines.join('; ') || 'nothing changed'}\n`);
    })().catch((error: Error) => process.stderr.write(`sessiongate: SIGHUP: ${path}: kept what was running: ${error.message}\n`));
  });
}

function settingsIn(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/** Whether a rule is about who calls (it can match only a verified caller). */
function namesPeople(rule: PolicyRule): boolean {
  return [rule.issuers, rule.subjects, rule.claims, rule.scopes, rule.clients].some((field) => field !== undefined);
}

/** `--stdio`: one child per session; the command is started once first, to fail early and clearly. */
async function stdioPlan(
  flags: GatewayFlags,
  stdio: [string, ...string[]],
  session: SessionFlags,
  reap: () => Promise<ChildLedger | undefined>,
  output: GatewayOutput,
): Promise<Omit<GatewayPlan, 'auth'>> {
  if (flags.upstream || flags.demoUpstream) fail('--stdio excludes --upstream and --demo-upstream');
  if (flags.identityHeaders) fail('--identity-header needs an HTTP --upstream (headers are what HTTP carries)');
  if (flags.upstreamTokenExchange) fail('--upstream-token-exchange needs an HTTP --upstream (a token is sent in a header)');
  let credentials: CredentialBroker | undefined;
  try {
    credentials = upstreamCredentials(flags, undefined);
  } catch (error) {
    fail((error as Error).message);
  }
  if (flags.upstreamEra === 'sessionless')
    fail('--upstream-era sessionless needs an HTTP --upstream (stdio servers speak the handshake era)');
  // Children cost memory whether their sessions work or not: stdio sessions get a cap by default.
  session.maxSessions ??= defaultStdioSessionCap();
  const [command, ...args] = stdio;
  // Only what the operator names reaches the child (child-environment.ts).
  const env = childEnvironment(flags.stdioEnv);
  const ledger = await reap();
  const problem = await probeStdio({ command, args, env }, flags.probeTimeoutMs);
  if (problem) fail(problem);
  const variable = flags.upstreamCredentialEnv;
  const handshake = stdioUpstream({
    command,
    args,
    env,
    ...(credentials && personalKey(credentials, { env: variable, meta: flags.upstreamCredentialMeta })),
    spares: flags.spares,
    childIdleTimeoutMs: flags.childIdleTimeoutMs,
    maxMessageLength: flags.maxMessageSize,
    ...(ledger ? { ledger } : {}),
    onStderr: (tag, line) => output.print(`[${tag ?? 'spare'}] ${line}`),
    onError: output.report,
  });
  return {
    handshake,
    http: undefined,
    replicas: [],
    summary: [`  upstream: stdio ${stdio.join(' ')} (one process per session${variable === undefined ? '' : ', started for its person'})`],
    ...(credentials && { credentials: [credentials] }),
  };
}

/** `--upstream URL --upstream-transport sse`: a server of the deprecated HTTP+SSE transport, one event stream per session. */
async function ssePlan(flags: GatewayFlags, output: GatewayOutput): Promise<Omit<GatewayPlan, 'auth'>> {
  const [url, ...more] = flags.upstream ?? [];
  if (url === undefined || more.length > 0 || flags.demoUpstream) fail('--upstream-transport sse takes exactly one --upstream');
  if (flags.upstreamTokenExchange) fail('--upstream-token-exchange needs a Streamable HTTP --upstream');
  if (flags.upstreamCredentials) fail('--upstream-credentials needs a Streamable HTTP --upstream');
  if (flags.identityHeaders || flags.forwardHeaders)
    fail('--identity-header and --forward-header need a Streamable HTTP --upstream (an event stream is shared by the calls of a session)');
  if (flags.upstreamEra === 'sessionless') fail('--upstream-era sessionless needs a Streamable HTTP --upstream');
  const problem = await probeHttpSse(url, flags.upstreamHeaders ?? {}, flags.probeTimeoutMs);
  if (problem) fail(problem);
  const handshake = sseUpstream({
    url,
    ...(flags.upstreamHeaders && { upstreamHeaders: flags.upstreamHeaders }),
    idleTimeoutMs: flags.childIdleTimeoutMs,
    maxMessageLength: flags.maxMessageSize,
    openTimeoutMs: flags.probeTimeoutMs,
    onStderr: (tag, line) => output.print(`[${tag ?? 'sse'}] ${line}`),
    onError: output.report,
  });
  output.warn(
    'warning: --upstream-transport sse speaks the HTTP+SSE transport MCP deprecated in 2025-03-26; move the server to Streamable HTTP when you can',
  );
  const shown = new URL(url).origin + new URL(url).pathname;
  return {
    handshake,
    http: undefined,
    replicas: [],
    summary: [`  upstream: ${shown} (HTTP+SSE, deprecated: one event stream per session)`],
  };
}

/** `--upstream` (one or a pool of replicas) or `--demo-upstream`: probed at start-up unless it is the demo. */
async function httpPlan(flags: GatewayFlags, output: GatewayOutput): Promise<Omit<GatewayPlan, 'auth'>> {
  let stop: (() => Promise<void>) | undefined;
  let replicas = flags.upstream ?? [];
  if (flags.demoUpstream) {
    if (replicas.length > 0) fail('--upstream and --demo-upstream exclude each other');
    // Loaded only here: the demo server brings the SDK and zod, which a gateway in front of a real server never needs.
    // A missing SDK (a peer dependency) is then this one line, like a port in use.
    const demo = await import('./demo-upstream.js')
      .then(({ startDemoUpstream }) => startDemoUpstream(flags.demoUpstreamPort, output.report))
      .catch((error: Error) => fail(error.message));
    replicas = [demo.url];
    stop = demo.stop;
  }
  const url = replicas[0];
  if (url === undefined) fail("required option '--upstream <url>' not specified (or --stdio, --demo-upstream)");
  let upstreamTokens: TokenExchange | undefined;
  let credentials: CredentialBroker | undefined;
  try {
    upstreamTokens = upstreamTokenExchange(flags, url);
    credentials = upstreamCredentials(flags, url);
  } catch (error) {
    fail((error as Error).message);
  }
  const headers = {
    forwardHeaders: flags.forwardHeaders,
    upstreamHeaders: flags.upstreamHeaders,
    identityHeaders: flags.identityHeaders,
    traceHeaders: flags.traced,
    ...(upstreamTokens && { upstreamAuthorization: (context: RequestContext) => upstreamTokens.authorization(context.principal ?? '') }),
    ...(credentials && {
      upstreamAuthorization: (context: RequestContext) => credentials.authorization(context.identity),
      upstreamAuthorizationHeader: credentials.header,
    }),
  };
  if (!flags.demoUpstream) {
    // An upstream that wants each person's token refuses the probe, which has none: that 401 counts as an answer.
    const perPerson = upstreamTokens !== undefined || credentials !== undefined;
    const problem = await probePool(replicas, headers.upstreamHeaders, perPerson);
    if (problem) fail(problem);
  }
  if (replicas.length > 1 && flags.upstreamEra === 'sessionless') fail('--upstream-era sessionless takes one --upstream');
  // One set of turns and one pool of connections for every path to the upstream (fair-slots.ts).
  const concurrency = flags.upstreamConcurrency;
  if (flags.upstreamShare !== undefined && flags.upstreamShare > concurrency)
    fail('--upstream-share cannot be more than --upstream-concurrency');
  const shared = {
    ...headers,
    slots: new FairSlots(concurrency, flags.upstreamShare),
    ...(concurrency === SHARED_POOL_CONNECTIONS ? {} : { dispatcher: keepAliveAgent(concurrency) }),
  };
  const handshake = httpUpstream({ url: replicas, ...shared, maxMessageBytes: flags.maxMessageSize, onError: output.report });
  const http: HttpUpstreamLink = { url, ...shared };
  const shown = flags.demoUpstream
    ? `bundled demo at ${url}`
    : replicas.map((replica) => new URL(replica).origin + new URL(replica).pathname).join(', ');
  const summary = [`  upstream: ${shown} (era: ${flags.upstreamEra})`];
  if (upstreamTokens) summary.push(`  upstream tokens: exchanged per person at ${flags.upstreamTokenExchange}`);
  return {
    handshake,
    http,
    replicas,
    summary,
    ...(upstreamTokens && { upstreamTokens }),
    ...(credentials && { credentials: [credentials] }),
    ...(stop ? { stop } : {}),
  };
}

/** Live sessions of one person (and of all anonymous callers together) by default. */
export const DEFAULT_SESSIONS_PER_PRINCIPAL = 1000;

/**
 * The default cap on live sessions of an HTTP upstream or a federation: one per 4 MiB of the
 * machine's memory, between 1,000 and 100,000 (6,144 on 24 GiB). A session holding the largest
 * initialize params allowed (64 KiB) costs the gateway about 320 KB (bench/RESULTS.md, "Issue
 * 34": the record, the replayable handshake, the parse), so the cap keeps that worst case under
 * a tenth of the memory.
 */
export function defaultSessionCap(totalBytes = totalmem()): number {
  return Math.min(100_000, Math.max(1000, Math.floor(totalBytes / (4 * 1024 * 1024))));
}

/**
 * The default cap on stdio sessions: one per 128 MiB of the machine's memory (a Node MCP server
 * idles at ~60 MB; the margin covers work), between 8 and 1,024 (docs/limits.md).
 */
export function defaultStdioSessionCap(totalBytes = totalmem()): number {
  return Math.min(1024, Math.max(8, Math.floor(totalBytes / (128 * 1024 * 1024))));
}

/** Opens the child ledger (unless off) and stops what a previous run left behind, saying so. */
async function reapOrphans(directory: string | undefined, warn: (line: string) => void): Promise<ChildLedger | undefined> {
  if (directory === 'off') return undefined;
  try {
    const ledger = new ChildLedger(directory);
    const reaped = await ledger.reapOrphans();
    if (reaped.length > 0) warn(`stopped ${reaped.length} child process(es) a previous run left behind (pids ${reaped.join(', ')})`);
    return ledger;
  } catch (error) {
    return fail((error as Error).message);
  }
}

function fail(message: string): never {
  throw new StartRefused(message);
}
