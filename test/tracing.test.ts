/**
 * OpenTelemetry traces through the gateway (docs/OBSERVABILITY.md): the real OTLP exporter of
 * the gateway (`--otel`, the command's own flags, in process) and of an official-SDK upstream
 * instrumented with the OpenTelemetry SDK post to a receiver the test runs on loopback; one
 * tools/call from the official SDK client carrying a trace context yields one trace holding the
 * client's span as parent, the gateway's spans (the policy span naming its rule) and the
 * upstream handler's span. Also: a stdio server reading `_meta.traceparent`, a federation of
 * two servers, a call held for an operator, the sampler, and a collector that is not there.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './helpers/otlp-receiver.js';
import { startTracedUpstream, type TracedUpstream } from './helpers/traced-upstream.js';
import { openSession, postStream, send, toolCall } from './helpers/mcp-http.js';
import { launchChromium, seriousViolations } from './helpers/browser.js';
import { sessionTag } from '../src/session/id.js';
import { newApiKey } from '../src/auth/index.js';
import type { Browser } from 'playwright-core';

const STDIO_FIXTURE = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
const ADMIN = 'admin-token-for-tracing-tests';
const TRACE_VIEWER = 'https://traces.example/trace/{traceId}';
const SERVER = 2;
const CLIENT = 3;

/** A client span of the test's own: a sampled W3C traceparent with fresh ids. */
function clientParent(): { traceId: string; spanId: string; traceparent: string } {
  const hex = (bytes: number): string => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
  const traceId = hex(16);
  const spanId = hex(8);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** Starts the gateway with the OTLP exporter speaking JSON and exporting fast; the variables are read at start. */
async function tracedGateway(args: string[], env: Record<string, string> = {}): Promise<InProcessGateway> {
  const vars = { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50', ...env };
  const before = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  Object.assign(process.env, vars);
  try {
    return await startGateway(['--port', '0', '--store', 'memory', ...args]);
  } finally {
    for (const [key, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

async function sdkClient(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'traced-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

const inTrace = (spans: ReceivedSpan[], traceId: string): ReceivedSpan[] => spans.filter((span) => span.traceId === traceId);

type SpanTest = (span: ReceivedSpan) => boolean;

/** The spans of a trace once each of `wanted` matches one of them (spans leave in batches, each side on its own). */
async function traceOnce(receiver: OtlpReceiver, traceId: string, ...wanted: SpanTest[]): Promise<ReceivedSpan[]> {
  const all = await receiver.until((spans) => wanted.every((test) => inTrace(spans, traceId).some(test)));
  return inTrace(all, traceId);
}

/** The gateway's span of kind `kind` named `name`. */
const gatewaySpan =
  (kind: number, name: string): SpanTest =>
  (span) =>
    span.service === 'sessiongate' && span.kind === kind && span.name === name;
const ofService =
  (service: string): SpanTest =>
  (span) =>
    span.service === service;

describe('traces through the gateway', () => {
  let receiver: OtlpReceiver;
  let upstream: TracedUpstream;
  let gateway: InProcessGateway;
  let dir: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    upstream = await startTracedUpstream('upstream', receiver.url);
    dir = mkdtempSync(join(tmpdir(), 'sg-tracing-'));
    const policy = join(dir, 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({
        default: 'deny',
        rules: [
          { id: 'echo-for-all', effect: 'allow', tools: ['echo'] },
          { id: 'progress-held', effect: 'approve', approver: 'operator', tools: ['progress'] },
        ],
      }),
    );
    gateway = await tracedGateway([
      '--upstream',
      upstream.url,
      '--otel',
      receiver.url,
      '--policy',
      policy,
      '--audit',
      join(dir, 'audit.jsonl'),
      '--admin-token',
      ADMIN,
      '--otel-trace-link',
      TRACE_VIEWER,
      // Every step its span, however short (by default only those of 1 ms or more).
      '--otel-min-step',
      '0',
    ]);
  });

  afterAll(async () => {
    await gateway?.kill();
    await upstream?.close();
    await receiver?.close();
  });

  it("one tools/call with the client's traceparent in _meta is one trace: client -> gateway (policy, upstream) -> upstream handler", async () => {
    const parent = clientParent();
    const client = await sdkClient(gateway.url);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hello' }, _meta: { traceparent: parent.traceparent } });
    expect(result.content).toEqual([{ type: 'text', text: 'upstream: hello' }]);
    await client.close();

    const spans = await traceOnce(
      receiver,
      parent.traceId,
      ofService('upstream'),
      gatewaySpan(SERVER, 'tools/call echo'),
      gatewaySpan(CLIENT, 'tools/call echo'),
      (span) => span.name === 'policy',
      (span) => span.name === 'upstream turn',
    );
    const request = spans.find(gatewaySpan(SERVER, 'tools/call echo'))!;
    expect(request).toMatchObject({
      name: 'tools/call echo',
      parentSpanId: parent.spanId,
      attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'echo', 'gen_ai.operation.name': 'execute_tool' },
    });
    expect(request.attributes['mcp.session.id']).toMatch(/^[0-9a-f]{8}$/);
    const policy = spans.find((span) => span.name === 'policy')!;
    expect(policy).toMatchObject({
      parentSpanId: request.spanId,
      attributes: { 'sessiongate.policy.rule': 'echo-for-all', 'sessiongate.policy.effect': 'allow' },
    });
    const exchange = spans.find((span) => span.service === 'sessiongate' && span.kind === CLIENT)!;
    expect(exchange).toMatchObject({ name: 'tools/call echo', parentSpanId: request.spanId });
    const handler = spans.find((span) => span.service === 'upstream')!;
    expect(handler).toMatchObject({ name: 'tool hello', parentSpanId: exchange.spanId });
    // The server's own work before the stages, and the wait for a turn at the upstream, inside the request's span.
    for (const name of ['authenticate', 'session lookup', 'upstream turn'])
      expect(spans.find((span) => span.name === name)?.parentSpanId, name).toBe(request.spanId);
    // The same trace context in the upstream's HTTP headers as in its _meta.
    const seen = upstream.calls.at(-1)!;
    expect(seen.meta).toBe(`00-${parent.traceId}-${exchange.spanId}-01`);
    expect(seen.header).toBe(seen.meta);

    // The audit line of the call names the trace.
    await expect
      .poll(() =>
        readFileSync(join(dir, 'audit.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .find((event) => event['method'] === 'tools/call' && event['traceId'] === parent.traceId),
      )
      .toMatchObject({ name: 'echo', rule: 'echo-for-all' });
  });

  it('takes the trace from the HTTP traceparent header when _meta has none', async () => {
    const parent = clientParent();
    const client = await sdkClient(gateway.url, { traceparent: parent.traceparent });
    await client.callTool({ name: 'echo', arguments: { text: 'by-header' } });
    await client.close();
    const spans = await traceOnce(receiver, parent.traceId, gatewaySpan(SERVER, 'tools/call echo'));
    const request = spans.find(gatewaySpan(SERVER, 'tools/call echo'))!;
    expect(request.parentSpanId).toBe(parent.spanId);
  });

  it("a server's progress reaches the client carrying the trace; the call held for an operator is one wait span with the decision on it", async () => {
    const parent = clientParent();
    const session = await openSession(gateway.url);
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25', traceparent: parent.traceparent };
    const call = { ...toolCall('progress', {}), params: { name: 'progress', arguments: {}, _meta: { progressToken: 'p1' } } };
    // Held until the operator decides: the answer's headers may come only then.
    const opening = postStream(gateway.url, headers, call);
    await expect
      .poll(async () => ((await adminGet(gateway.url, '/admin/approvals'))['approvals'] as unknown[]).length, { timeout: 10_000 })
      .toBe(1);
    const [pending] = (await adminGet(gateway.url, '/admin/approvals'))['approvals'] as { id: string }[];
    const decided = await fetch(gateway.url.replace(/\/mcp$/, `/admin/approvals/${pending!.id}/approve`), {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ operator: 'dana' }),
    });
    expect(decided.status).toBe(200);
    const stream = await opening;
    const messages: { id?: unknown; method?: string; params?: { _meta?: { traceparent?: string } } }[] = [];
    for (let message = await stream.next(10_000); message !== undefined; message = await stream.next(10_000)) {
      messages.push(message as (typeof messages)[number]);
      if ((message as { id?: unknown }).id !== undefined) break;
    }
    stream.close();
    const progress = messages.find((message) => message.method === 'notifications/progress')!;
    expect(progress.params?._meta?.traceparent).toMatch(new RegExp(`^00-${parent.traceId}-[0-9a-f]{16}-01$`));

    const spans = await traceOnce(receiver, parent.traceId, (span) => span.name === 'approval', gatewaySpan(SERVER, 'tools/call progress'));
    const request = spans.find(gatewaySpan(SERVER, 'tools/call progress'))!;
    const wait = spans.find((span) => span.name === 'approval')!;
    expect(wait).toMatchObject({
      parentSpanId: request.spanId,
      attributes: { 'sessiongate.approval.asks': 'operator', 'sessiongate.policy.rule': 'progress-held' },
    });
    expect(wait.events).toEqual([
      {
        name: 'approval.decided',
        attributes: { 'sessiongate.approval.outcome': 'approve-accepted', 'sessiongate.approval.by': 'admin:dana' },
      },
    ]);
  });

  it('a refused call is traced with its JSON-RPC error code', async () => {
    const parent = clientParent();
    const session = await openSession(gateway.url);
    const answer = await send(gateway.url, {
      headers: { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25', traceparent: parent.traceparent },
      body: toolCall('not-allowed', {}),
    });
    expect(answer.status).toBe(200);
    const spans = await traceOnce(
      receiver,
      parent.traceId,
      gatewaySpan(SERVER, 'tools/call not-allowed'),
      (span) => span.name === 'policy',
    );
    const request = spans.find(gatewaySpan(SERVER, 'tools/call not-allowed'))!;
    const code = String((answer.json as { error: { code: number } }).error.code);
    expect(request.attributes).toMatchObject({ 'rpc.response.status_code': code, 'error.type': code });
    expect(request.status).toBe(2);
    expect(spans.find((span) => span.name === 'policy')!.attributes).toMatchObject({ 'sessiongate.policy.effect': 'deny' });
    expect(spans.some((span) => span.kind === CLIENT)).toBe(false);
  });
});

describe('the console and the flags', () => {
  let receiver: OtlpReceiver;
  let upstream: TracedUpstream;
  let gateway: InProcessGateway;
  let browser: Browser;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    upstream = await startTracedUpstream('upstream', receiver.url);
    gateway = await tracedGateway([
      '--upstream',
      upstream.url,
      '--otel',
      receiver.url,
      '--admin-token',
      ADMIN,
      '--otel-trace-link',
      TRACE_VIEWER,
    ]);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.kill();
    await upstream?.close();
    await receiver?.close();
  });

  it("a session's calls in the console link to their traces in the configured viewer", async () => {
    const parent = clientParent();
    const transport = new StreamableHTTPClientTransport(new URL(gateway.url), {
      requestInit: { headers: { traceparent: parent.traceparent } },
    });
    const client = new Client({ name: 'traced-client', version: '1.0.0' });
    await client.connect(transport);
    await client.callTool({ name: 'echo', arguments: { text: 'seen' } });
    const tag = sessionTag(transport.sessionId!);
    const page = await browser.newPage();
    try {
      await page.goto(gateway.url.replace(/\/mcp$/, '/console/'));
      await page.getByLabel('Admin token').fill(ADMIN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator(`tr[data-session="${tag}"]`).getByRole('link').click();
      await page.getByRole('heading', { name: `Session ${tag}` }).waitFor({ timeout: 10_000 });
      const link = page.getByRole('link', { name: parent.traceId });
      await link.first().waitFor({ timeout: 10_000 });
      expect(await link.first().getAttribute('href')).toBe(`https://traces.example/trace/${parent.traceId}`);
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      await page.close();
      await client.close();
    }
  });

  it('the metrics /metrics serves go by OTLP too, the same instruments with the same values', async () => {
    const receiver = await startOtlpReceiver();
    const metered = await tracedGateway(['--upstream', upstream.url, '--otel', receiver.url], { OTEL_METRIC_EXPORT_INTERVAL: '100' });
    try {
      const client = await sdkClient(metered.url);
      for (let n = 0; n < 3; n++) await client.callTool({ name: 'echo', arguments: { text: `m${n}` } });
      await client.close();
      const scraped = await (await fetch(metered.url.replace(/\/mcp$/, '/metrics'))).text();
      const served = (name: string): number =>
        Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(scraped)?.[1] ?? NaN);
      const calls = served('sessiongate_requests_total{method="tools/call",outcome="result"}');
      expect(calls).toBe(3);
      const latest = (name: string, method: string) =>
        receiver.points.findLast((point) => point.name === name && point.attributes['method'] === method);
      await expect.poll(() => latest('sessiongate_requests_total', 'tools/call')?.value, { timeout: 10_000 }).toBe(calls);
      expect(latest('sessiongate_requests_total', 'tools/call')).toMatchObject({ kind: 'sum', attributes: { outcome: 'result' } });
      const histogram = latest('sessiongate_request_duration_seconds', 'tools/call')!;
      expect(histogram).toMatchObject({ kind: 'histogram', value: 3 });
      expect(histogram.buckets!.bounds).toEqual([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30]);
      expect(histogram.buckets!.counts.reduce((a, b) => a + b, 0)).toBe(3);
      expect(receiver.points.some((point) => point.name === 'sessiongate_sessions_live' && point.kind === 'gauge')).toBe(true);
      expect(metered.output()).toContain(`metrics by OTLP: to ${receiver.url}/ as well`);
    } finally {
      await metered.kill();
      await receiver.close();
    }
  });

  it('refuses at start what it cannot export to, in one line each; OTEL_SDK_DISABLED turns it off', async () => {
    const refusals: [string[], Record<string, string>, RegExp][] = [
      [['--otel', 'not a url'], {}, /the OTLP endpoint "not a url" is not a URL/],
      [['--otel'], { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /OTLP protocol "grpc" is not supported here/],
      [['--otel'], { OTEL_TRACES_EXPORTER: 'zipkin' }, /OTEL_TRACES_EXPORTER="zipkin": this gateway exports by OTLP only/],
      [['--otel'], { OTEL_METRICS_EXPORTER: 'console' }, /OTEL_METRICS_EXPORTER="console": this gateway exports by OTLP only/],
      [['--otel'], { OTEL_METRIC_EXPORT_INTERVAL: 'soon' }, /OTEL_METRIC_EXPORT_INTERVAL\) must be a positive number/],
      [
        ['--otel', receiver.url, '--otel-trace-link', 'javascript:alert(1)//{traceId}'],
        {},
        /--otel-trace-link .* must be an http\(s\) URL/,
      ],
    ];
    for (const [args, env, message] of refusals)
      await expect(tracedGateway(['--upstream', upstream.url, ...args], env)).rejects.toThrow(message);
    const off = await tracedGateway(['--upstream', upstream.url, '--otel', receiver.url], { OTEL_SDK_DISABLED: 'true' });
    try {
      expect(off.output()).not.toContain('traces:');
      expect(off.output()).not.toContain('metrics by OTLP');
      expect(gateway.output()).toContain(`traces: OpenTelemetry, OTLP to ${receiver.url}/`);
    } finally {
      await off.kill();
    }
  });
});

describe('a person, by the claim the operator named, and their rate limit', () => {
  it('the request span names the caller by --otel-principal-claim only; a rate-limited rule takes from its bucket in a span', async () => {
    const receiver = await startOtlpReceiver();
    const upstream = await startTracedUpstream('upstream', receiver.url);
    const dir = mkdtempSync(join(tmpdir(), 'sg-tracing-person-'));
    const alice = newApiKey();
    writeFileSync(join(dir, 'keys.jsonl'), `${JSON.stringify({ name: 'alice', sha256: alice.sha256 })}\n`);
    writeFileSync(
      join(dir, 'policy.json'),
      JSON.stringify({
        default: 'deny',
        rules: [
          { id: 'echo-limited', effect: 'allow', tools: ['echo'], rateLimit: { requests: 100, per: '1m' } },
          { id: 'progress-asked', effect: 'approve', tools: ['progress'] },
        ],
      }),
    );
    const common = ['--upstream', upstream.url, '--otel', receiver.url, '--auth', 'api-keys', '--api-keys', join(dir, 'keys.jsonl')];
    const named = await tracedGateway([...common, '--policy', join(dir, 'policy.json'), '--otel-principal-claim', 'sub']);
    const unnamed = await tracedGateway(common);
    try {
      const traces: string[] = [];
      for (const gateway of [named, unnamed]) {
        const parent = clientParent();
        traces.push(parent.traceId);
        // A client that can be asked (elicitation), and says yes.
        const client = new Client({ name: 'asked-client', version: '1.0.0' }, { capabilities: { elicitation: {} } });
        client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { approve: true } }));
        const headers = { authorization: `Bearer ${alice.key}`, traceparent: parent.traceparent };
        await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers } }));
        await client.callTool({ name: 'echo', arguments: { text: 'me' } });
        if (gateway === named) await client.callTool({ name: 'progress', arguments: {} });
        await client.close();
      }
      const [withClaim, without] = traces as [string, string];
      const spans = await traceOnce(receiver, withClaim, gatewaySpan(SERVER, 'tools/call echo'), (span) => span.name === 'rate limit');
      const request = spans.find(gatewaySpan(SERVER, 'tools/call echo'))!;
      expect(request.attributes['enduser.id']).toBe('alice');
      expect(spans.find((span) => span.name === 'rate limit')).toMatchObject({
        parentSpanId: request.spanId,
        attributes: { 'sessiongate.policy.rule': 'echo-limited', 'sessiongate.rate_limit.passed': true },
      });
      // The person asked in the call's stream: the wait is a span, their answer an event on it.
      const asked = (await traceOnce(receiver, withClaim, (span) => span.name === 'approval')).find((span) => span.name === 'approval')!;
      expect(asked.attributes).toMatchObject({ 'sessiongate.approval.asks': 'user', 'sessiongate.policy.rule': 'progress-asked' });
      expect(asked.events).toEqual([
        { name: 'approval.decided', attributes: { 'sessiongate.approval.outcome': 'approve-accepted', 'sessiongate.approval.by': 'user' } },
      ]);
      const other = (await traceOnce(receiver, without, gatewaySpan(SERVER, 'tools/call echo'))).find(
        gatewaySpan(SERVER, 'tools/call echo'),
      )!;
      expect(other.attributes).not.toHaveProperty('enduser.id');
      // No span holds the key, whatever its name.
      expect(JSON.stringify(receiver.spans)).not.toContain(alice.key);
    } finally {
      await named.kill();
      await unnamed.kill();
      await upstream.close();
      await receiver.close();
    }
  });
});

async function adminGet(url: string, path: string): Promise<Record<string, unknown>> {
  const response = await fetch(url.replace(/\/mcp$/, path), { headers: { authorization: `Bearer ${ADMIN}` } });
  return (await response.json()) as Record<string, unknown>;
}

describe('traces to stdio servers and federations', () => {
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it('a stdio server gets the trace in _meta, its parent the exchange span', async () => {
    const gateway = await tracedGateway(['--stdio', `node ${STDIO_FIXTURE}`, '--spares', '0', '--otel', receiver.url]);
    try {
      const parent = clientParent();
      const client = await sdkClient(gateway.url);
      const result = await client.callTool({ name: 'meta', arguments: {}, _meta: { traceparent: parent.traceparent } });
      await client.close();
      const meta = JSON.parse((result.content as { text: string }[])[0]!.text) as Record<string, string>;
      const spans = await traceOnce(
        receiver,
        parent.traceId,
        gatewaySpan(CLIENT, 'tools/call meta'),
        gatewaySpan(SERVER, 'tools/call meta'),
      );
      const exchange = spans.find(gatewaySpan(CLIENT, 'tools/call meta'))!;
      expect(meta['traceparent']).toBe(`00-${parent.traceId}-${exchange.spanId}-01`);
      expect(exchange.parentSpanId).toBe(spans.find(gatewaySpan(SERVER, 'tools/call meta'))!.spanId);
    } finally {
      await gateway.kill();
    }
  });

  it('a federation: a span per server exchange, named for the server; a list fans out to both', async () => {
    const [one, two] = await Promise.all([startTracedUpstream('one', receiver.url), startTracedUpstream('two', receiver.url)]);
    const gateway = await tracedGateway(['--server', `one=${one.url}`, '--server', `two=${two.url}`, '--otel', receiver.url]);
    try {
      const parent = clientParent();
      const client = await sdkClient(gateway.url, { traceparent: parent.traceparent });
      await client.listTools();
      await client.callTool({ name: 'two__echo', arguments: { text: 'fed' } });
      await client.close();
      const spans = await traceOnce(
        receiver,
        parent.traceId,
        gatewaySpan(SERVER, 'tools/list'),
        gatewaySpan(SERVER, 'tools/call two__echo'),
        gatewaySpan(CLIENT, 'tools/call echo'),
        ofService('two'),
      );
      const list = spans.find(gatewaySpan(SERVER, 'tools/list'))!;
      const fanned = spans.filter((span) => span.name === 'tools/list' && span.kind === CLIENT && span.parentSpanId === list.spanId);
      expect(fanned.map((span) => span.attributes['sessiongate.server.name']).sort()).toEqual(['one', 'two']);
      const exchange = spans.find(gatewaySpan(CLIENT, 'tools/call echo'))!;
      expect(exchange.attributes['sessiongate.server.name']).toBe('two');
      expect(spans.find((span) => span.service === 'two')!.parentSpanId).toBe(exchange.spanId);
      expect(spans.some((span) => span.service === 'one')).toBe(false);
    } finally {
      await gateway.kill();
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describe('the sampler and the collector', () => {
  it('parentbased_traceidratio: a root call at ratio 0 leaves no span, a call whose client sampled it does', async () => {
    const receiver = await startOtlpReceiver();
    const upstream = await startTracedUpstream('upstream', receiver.url);
    const gateway = await tracedGateway(['--upstream', upstream.url, '--otel', receiver.url], {
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
    });
    try {
      const unsampled = await sdkClient(gateway.url);
      for (let n = 0; n < 5; n++) await unsampled.callTool({ name: 'echo', arguments: { text: `root-${n}` } });
      await unsampled.close();
      const parent = clientParent();
      const sampled = await sdkClient(gateway.url, { traceparent: parent.traceparent });
      await sampled.callTool({ name: 'echo', arguments: { text: 'sampled' } });
      await sampled.close();
      await receiver.until((all) => all.some((span) => span.service === 'upstream' && span.name === 'tool sampled'));
      // The upstream spans of root calls exist (the upstream samples on its own); the gateway's are only in the sampled trace.
      await traceOnce(receiver, parent.traceId, gatewaySpan(SERVER, 'tools/call echo'));
      expect(receiver.spans.filter((span) => span.service === 'sessiongate').every((span) => span.traceId === parent.traceId)).toBe(true);
      // Nor is a trace context of an unsampled call sent upstream as sampled.
      expect(upstream.calls.slice(0, 5).every((call) => call.meta === undefined || call.meta.endsWith('-00'))).toBe(true);
    } finally {
      await gateway.kill();
      await upstream.close();
      await receiver.close();
    }
  });

  it('a collector that is not there costs callers nothing: calls answer, the gateway stops', async () => {
    const receiver = await startOtlpReceiver();
    const upstream = await startTracedUpstream('upstream', receiver.url);
    const gone = await startOtlpReceiver();
    const nowhere = gone.url;
    await gone.close();
    const gateway = await tracedGateway(['--upstream', upstream.url, '--otel', nowhere]);
    try {
      const client = await sdkClient(gateway.url);
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, n) => client.callTool({ name: 'echo', arguments: { text: `n${n}` } })),
      );
      expect(answers.every((answer) => (answer.content as { text: string }[])[0]!.text.startsWith('upstream: n'))).toBe(true);
      await client.close();
    } finally {
      await gateway.kill();
      await upstream.close();
      await receiver.close();
    }
  });
});
