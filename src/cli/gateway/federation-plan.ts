/**
 * @module cli/gateway/federation-plan
 * `--server NAME=...` (or the config file's `servers`): many servers behind one endpoint
 * (docs/FEDERATION.md). Each server gets the ordinary upstream application with its own
 * settings (the global flags where its entry gives none) and its own connections; the
 * federation is probed once at start-up, and a server that does not answer is reported, not
 * fatal: it joins when it comes up.
 */
import { keepAliveAgent, SHARED_POOL_CONNECTIONS } from '../../client/http.js';
import { federation, type FederationApplication } from '../../gateway/federation/federation.js';
import type { FederatedServer } from '../../gateway/federation/member.js';
import { httpProbe, type ServerProbe, stdioProbe } from '../../gateway/federation/server-probe.js';
import { FairSlots } from '../../gateway/upstreams/fair-slots.js';
import { httpUpstream } from '../../gateway/upstreams/http/http-upstream.js';
import type { ChildLedger } from '../../gateway/upstreams/stdio/child-ledger.js';
import { childEnvironment } from '../../gateway/upstreams/stdio/child-environment.js';
import { stdioUpstream } from '../../gateway/upstreams/stdio/stdio-upstream.js';
import type { SessionFlags } from '../session-flags.js';
import type { GatewayFlags } from './gateway-flags.js';
import type { GatewayPlan } from './serve-gateway.js';
import type { ServerSpec } from './server-specs.js';
import type { GatewayOutput } from './gateway-output.js';
import { personalKey, serverCredentials, strayCompanion } from './gateway-credentials.js';
import type { CredentialBroker } from '../../gateway/credentials/credential-broker.js';
import type { RequestContext } from '../../server/application.js';

export async function federationPlan(
  flags: GatewayFlags,
  specs: readonly ServerSpec[],
  session: SessionFlags,
  ledger: () => Promise<ChildLedger | undefined>,
  defaultStdioCap: () => number,
  output: GatewayOutput,
): Promise<
  Omit<GatewayPlan, 'auth'> & { federation: FederationApplication; reloadServers: (specs: readonly ServerSpec[]) => Promise<string> }
> {
  const problem = exclusions(flags);
  if (problem) throw new Error(problem);
  const stdio = specs.some((spec) => spec.stdio);
  // Children cost memory whether their sessions work or not: stdio sessions get a cap by default.
  if (stdio) session.maxSessions ??= defaultStdioCap();
  let childLedger = stdio ? await ledger() : undefined;
  // Each person's own credentials, per server that asks for them (fixed at start: a reload keeps them).
  const brokers = new Map<string, CredentialBroker>();
  for (const spec of specs) {
    const broker = serverCredentials(flags, spec);
    if (broker) brokers.set(spec.name, broker);
  }
  // Traced: each server's exchanges get spans (loaded only then: OpenTelemetry is heavy to load).
  const traced = flags.traced ? (await import('../../gateway/ops/upstream-spans.js')).tracedUpstream : undefined;
  const build = (spec: ServerSpec): FederatedServer => {
    const server = spec.stdio
      ? stdioServer(flags, spec, spec.stdio, childLedger, output, brokers.get(spec.name))
      : httpServer(flags, spec, spec.url!, output, brokers.get(spec.name));
    return traced ? { ...server, app: traced(server.app, spec.name) } : server;
  };
  const servers = specs.map(build);
  const federated = federation({
    servers,
    namespaceSeparator: flags.namespaceSeparator,
    eagerUpstreams: flags.eagerUpstreams,
    upstreamIdleTimeoutMs: flags.upstreamIdleTimeoutMs,
    onError: output.report,
  });
  await federated.start();
  const summary = [`  servers (federated; tools and prompts as NAME${flags.namespaceSeparator}name):`];
  for (const server of federated.servers())
    summary.push(
      `    ${server.name}: ${server.target}${server.state !== 'down' ? '' : server.slow ? ` (slow: ${server.problem ?? 'no answer yet'}; joins when it answers)` : ` (down: ${server.problem ?? 'no answer'}; joins when it answers)`}`,
    );
  // What each server was built from: a reload rebuilds only those whose entry changed.
  let built = new Map(specs.map((spec) => [spec.name, JSON.stringify(spec)]));
  const reloadServers = async (next: readonly ServerSpec[]): Promise<string> => {
    if (next.some((spec) => spec.stdio)) childLedger ??= await ledger();
    const moved = credentialsChanged(specs, next);
    if (moved) throw new Error(`server "${moved}": its credentials change at the next start, not by a reload`);
    const wanted = new Map(next.map((spec) => [spec.name, JSON.stringify(spec)]));
    const remove = [...built.keys()].filter((name) => wanted.get(name) !== built.get(name));
    const add = next.filter((spec) => built.get(spec.name) !== wanted.get(spec.name));
    if (remove.length === 0 && add.length === 0) return 'servers unchanged';
    await federated.reconfigure({ remove, add: add.map(build), order: next.map((spec) => spec.name) });
    const changed = add.filter((spec) => built.has(spec.name)).map((spec) => spec.name);
    const gone = remove.filter((name) => !wanted.has(name));
    const joined = add.filter((spec) => !built.has(spec.name)).map((spec) => spec.name);
    built = wanted;
    return `servers reloaded: ${[joined.length && `added ${joined.join(', ')}`, changed.length && `changed ${changed.join(', ')}`, gone.length && `removed ${gone.join(', ')}`].filter(Boolean).join('; ')}`;
  };
  return {
    handshake: federated,
    http: undefined,
    replicas: [],
    summary,
    federation: federated,
    reloadServers,
    ...(brokers.size > 0 && { credentials: [...brokers.values()] }),
  };
}

function exclusions(flags: GatewayFlags): string | undefined {
  if (flags.upstream || flags.stdio || flags.demoUpstream) return '--server excludes --upstream, --stdio and --demo-upstream';
  if (flags.upstreamTokenExchange) return '--upstream-token-exchange takes one --upstream (not yet per federated server)';
  if (flags.upstreamCredentials)
    return "--upstream-credentials takes one --upstream (a federated server's own: its config entry's credentials)";
  const stray = strayCompanion(flags);
  if (stray) return `${stray} is for one --upstream (a federated server's own: its config entry's credentials)`;
  if (flags.upstreamEra === 'sessionless')
    return '--upstream-era sessionless takes one --upstream (federated servers speak the handshake era)';
  return undefined;
}

function httpServer(
  flags: GatewayFlags,
  spec: ServerSpec,
  urls: string[],
  output: GatewayOutput,
  broker: CredentialBroker | undefined,
): FederatedServer {
  const upstreamHeaders = spec.upstreamHeaders ?? flags.upstreamHeaders;
  // Each server its own turns and connections: a slow one fills only its own (docs/FEDERATION.md, "Failure isolation").
  const concurrency = spec.concurrency ?? flags.upstreamConcurrency;
  const dispatcher = concurrency === SHARED_POOL_CONNECTIONS ? undefined : keepAliveAgent(concurrency);
  const app = httpUpstream({
    url: urls,
    forwardHeaders: spec.forwardHeaders ?? flags.forwardHeaders,
    upstreamHeaders,
    identityHeaders: spec.identityHeaders ?? flags.identityHeaders,
    traceHeaders: flags.traced,
    ...(broker && {
      upstreamAuthorization: (context: RequestContext) => broker.authorization(context.identity),
      upstreamAuthorizationHeader: broker.header,
    }),
    // The share is of this server's own connections: at most --upstream-share, at most all of them.
    slots: new FairSlots(concurrency, flags.upstreamShare === undefined ? undefined : Math.min(flags.upstreamShare, concurrency)),
    ...(dispatcher ? { dispatcher } : {}),
    maxMessageBytes: flags.maxMessageSize,
    onError: output.report,
  });
  // A server that wants each person's token refuses the probe, which has none: that 401 counts as an answer.
  const probes = urls.map((url) => httpProbe(url, upstreamHeaders, dispatcher, flags.probeTimeoutMs, broker !== undefined));
  return {
    name: spec.name,
    app,
    probe: anyOf(probes),
    target: urls.map((url) => new URL(url).origin + new URL(url).pathname).join(', '),
    // A person who has not connected it is not shown it (docs/CREDENTIALS.md, "Several servers").
    ...(broker && { admits: holdsCredential(broker) }),
  };
}

function stdioServer(
  flags: GatewayFlags,
  spec: ServerSpec,
  stdio: [string, ...string[]],
  ledger: ChildLedger | undefined,
  output: GatewayOutput,
  broker: CredentialBroker | undefined,
): FederatedServer {
  const [command, ...args] = stdio;
  // Only what the operator names reaches the child (child-environment.ts).
  const env = childEnvironment(spec.stdioEnv ?? flags.stdioEnv);
  const app = stdioUpstream({
    command,
    args,
    env,
    spares: spec.spares ?? flags.spares,
    childIdleTimeoutMs: spec.childIdleTimeoutMs ?? flags.childIdleTimeoutMs,
    maxMessageLength: flags.maxMessageSize,
    ...(ledger ? { ledger } : {}),
    onStderr: (tag, line) => output.print(`[${spec.name} ${tag ?? 'spare'}] ${line}`),
    onError: output.report,
    // Each person's own key, in their child's environment or each request's `_meta` (docs/CREDENTIALS.md, "Several servers").
    ...(broker && personalKey(broker, { env: spec.credentials?.env, meta: spec.credentials?.meta })),
  });
  return {
    name: spec.name,
    app,
    probe: stdioProbe({ command, args, env }, flags.probeTimeoutMs),
    target: `stdio: ${stdio.join(' ')}`,
    ...(broker && { admits: holdsCredential(broker) }),
  };
}

/** A server people connect admits a caller whose credential for it is held (and the policy lets them use). */
function holdsCredential(broker: CredentialBroker): (context: RequestContext) => boolean {
  return (context) => broker.authorization(context.identity) !== undefined;
}

/** The first server whose `credentials` entry a reload would change, if any. */
function credentialsChanged(before: readonly ServerSpec[], after: readonly ServerSpec[]): string | undefined {
  const was = new Map(before.map((spec) => [spec.name, JSON.stringify(spec.credentials)]));
  const names = new Set([...before, ...after].filter((spec) => spec.credentials).map((spec) => spec.name));
  return [...names].find((name) => was.get(name) !== JSON.stringify(after.find((spec) => spec.name === name)?.credentials));
}

/** A pool's probe: the first replica that answers. */
function anyOf(probes: readonly ServerProbe[]): ServerProbe {
  return () => Promise.any(probes.map((probe) => probe())).catch((error: AggregateError) => Promise.reject(error.errors[0] as Error));
}
