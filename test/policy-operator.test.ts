/**
 * `approver: "operator"` over real sockets and processes: the official SDK client's call waits
 * (with progress) until an operator decides at the admin API of another replica on a real
 * Redis, or of the same gateway restarted after a SIGKILL on SQLite, or until the approval
 * timeout refuses it (the request deadline does not cut the wait short). An official SDK
 * upstream's own log proves a denied call never reached it; the audit line names the operator.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type DemoProcess } from './helpers/demo-process.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { startIdentityProvider, type IdentityProvider } from './helpers/identity-provider.js';
import { send, sseMessages } from './helpers/mcp-http.js';
import { startProcess, type ServerProcess } from './helpers/processes.js';
import { freePort, startRedis } from './helpers/redis.js';

const ADMIN = 'operator-test-admin-token-0123456789';
const POLICY = {
  default: 'deny',
  rules: [
    { id: 'alice-echo', effect: 'allow', subjects: ['alice'], tools: ['echo'] },
    { id: 'alice-slow-op', effect: 'approve', approver: 'operator', subjects: ['alice'], tools: ['slow'] },
  ],
};

const dir = mkdtempSync(join(tmpdir(), 'sg-operator-'));
const policyFile = join(dir, 'policy.json');
const upstreamLog = join(dir, 'upstream.jsonl');
let idp: IdentityProvider;
let upstream: ServerProcess;

beforeAll(async () => {
  writeFileSync(policyFile, JSON.stringify(POLICY));
  writeFileSync(upstreamLog, '');
  idp = await startIdentityProvider();
  upstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort()), '--log', upstreamLog]);
}, 30_000);
afterAll(async () => {
  await upstream?.kill();
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A gateway with this test's policy and admin token; `extra` flags after the common ones. */
function gateway(store: string, extra: string[] = []): Promise<DemoProcess> {
  return startCli(flags(store, extra), { SESSIONGATE_ADMIN_TOKEN: ADMIN });
}

/** The same gateway in this process (helpers/in-process-gateway.ts), for a test that needs no restart. */
function gatewayInProcess(store: string, extra: string[] = []): Promise<InProcessGateway> {
  return startGateway([...flags(store, extra), '--admin-token', ADMIN]);
}

function flags(store: string, extra: string[]): string[] {
  return [
    ...['--port', '0', '--store', store, '--upstream', upstream.url, '--upstream-era', 'handshake', '--policy', policyFile],
    ...['--auth', 'jwt', '--jwks-uri', idp.jwksUri, '--issuer', idp.issuer, ...extra],
  ];
}

async function clientOf(url: string, sub = 'alice'): Promise<Client> {
  const token = await idp.token({ sub, aud: url });
  const client = new Client({ name: `operator-${sub}`, version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

interface Pending {
  id: string;
  status: string;
  call: {
    session: string | null;
    identity: unknown;
    method: string;
    name: string;
    arguments: string;
    rule: string;
    client: { name: string };
  };
}

async function admin(url: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url.replace(/\/mcp$/, path), {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const pending = async (url: string): Promise<Pending[]> => (await admin(url, '/admin/approvals')).json['approvals'] as Pending[];

/** The one pending approval, once there is exactly one. */
async function theOnePending(url: string): Promise<Pending> {
  await expect.poll(async () => (await pending(url)).length, { timeout: 15_000 }).toBe(1);
  return (await pending(url))[0]!;
}

/** How many `slow` calls reached the upstream, by its own log. */
function slowCallsUpstream(): number {
  return readFileSync(upstreamLog, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"tools/call"') && line.includes('"slow"')).length;
}

function auditLines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (error) {
    return error as { code: number; message: string };
  }
  throw new Error('the call was not refused');
}

describe('approver "operator" on replicas sharing a Redis store', () => {
  it('a call on one replica waits, with progress, until an operator at the other approves or denies it; two operators at once decide once', async () => {
    const redis = await startRedis();
    const audit = join(dir, 'audit-a.jsonl');
    const a = await gateway(redis.url, ['--audit', audit, '--approval-timeout', '1m']);
    const b = await gateway(redis.url);
    try {
      const client = await clientOf(a.url);
      const progress: Progress[] = [];
      const approved = client.callTool({ name: 'slow', arguments: { ms: 30 } }, undefined, {
        onprogress: (p) => progress.push(p),
      });
      const asked = await theOnePending(b.url);
      expect(asked.call).toMatchObject({ method: 'tools/call', name: 'slow', arguments: '{"ms":30}', rule: 'alice-slow-op' });
      expect(asked.call.client.name).toBe('operator-alice');
      // The same identity as the session's (issue 35): the person, not a hash of them.
      const [session] = (await admin(b.url, '/admin/sessions')).json['sessions'] as { tag: string; identity: unknown }[];
      expect(asked.call.identity).toMatchObject({ subject: 'alice', issuer: idp.issuer });
      expect(asked.call.identity).toEqual(session!.identity);
      expect(asked.call.session).toBe(session!.tag);
      await expect.poll(() => progress.length, { timeout: 15_000 }).toBe(1);
      expect(progress[0]!.message).toContain(asked.id);
      const before = slowCallsUpstream();

      const decided = await admin(b.url, `/admin/approvals/${asked.id}/approve`, { operator: 'dana' });
      expect(decided.status).toBe(200);
      expect(decided.json['approval']).toMatchObject({ status: 'approved', decidedBy: 'admin:dana' });
      expect(((await approved) as { content: { text: string }[] }).content[0]!.text).toBe('slow done');
      // The wait's progress, then the upstream's own, counted on: always increasing.
      expect(progress.map((p) => p.progress)).toEqual([1, 2, 3, 4]);
      expect(progress.at(-1)!.total).toBe(4);
      expect(slowCallsUpstream()).toBe(before + 1);
      // Collected by its call: nothing is left to decide.
      expect((await admin(b.url, `/admin/approvals/${asked.id}/approve`, {})).status).toBe(404);

      // Denied, with a reason the caller is told; the upstream never sees the call.
      const denied = refusal(client.callTool({ name: 'slow', arguments: { ms: 31 } }));
      const second = await theOnePending(a.url);
      expect((await admin(b.url, `/admin/approvals/${second.id}/deny`, { operator: 'dana', reason: 'not during the freeze' })).status).toBe(
        200,
      );
      expect(await denied).toMatchObject({ code: -31051, message: expect.stringContaining('not during the freeze') as string });
      expect(slowCallsUpstream()).toBe(before + 1);

      // Two operators at once, one on each replica: exactly one decision counts.
      const third = refusal(client.callTool({ name: 'slow', arguments: { ms: 32 } })).catch(() => undefined);
      const race = await theOnePending(a.url);
      const statuses = await Promise.all([
        admin(a.url, `/admin/approvals/${race.id}/deny`, {}),
        admin(b.url, `/admin/approvals/${race.id}/deny`, {}),
      ]).then((answers) => answers.map((answer) => answer.status).sort());
      expect(statuses[0]).toBe(200);
      expect([404, 409]).toContain(statuses[1]);
      await third;

      await expect
        .poll(
          () =>
            auditLines(audit)
              .filter((line) => line['rule'] === 'alice-slow-op')
              .map((line) => [line['decision'], line['approver']]),
          {
            timeout: 10_000,
          },
        )
        .toEqual([
          ['approve-accepted', 'admin:dana'],
          ['approve-declined', 'admin:dana'],
          ['approve-declined', 'admin'],
        ]);
      // The wait for the operator is told apart, and the latency metric leaves it out (issue 35).
      const held = auditLines(audit).filter((line) => line['rule'] === 'alice-slow-op');
      for (const line of held) expect(line['approvalWaitMs']).toBeLessThanOrEqual(line['durationMs'] as number);
      const waited = held.reduce((sum, line) => sum + (line['approvalWaitMs'] as number), 0);
      expect(waited).toBeGreaterThan(100);
      const calls = auditLines(audit).filter((line) => line['method'] === 'tools/call');
      const upstreamSeconds =
        calls.reduce((sum, line) => sum + (line['durationMs'] as number) - ((line['approvalWaitMs'] as number) || 0), 0) / 1000;
      const metrics = await (await fetch(a.url.replace(/\/mcp$/, '/metrics'))).text();
      const observed = Number(/sessiongate_request_duration_seconds_sum\{method="tools\/call"\} (\S+)/.exec(metrics)![1]);
      expect(observed).toBeCloseTo(upstreamSeconds, 1);
      expect(observed).toBeLessThan(waited / 1000);
      await client.close();
    } finally {
      await a.kill();
      await b.kill();
      await redis.stop();
    }
  });
});

describe('approver "operator" on SQLite', () => {
  it('a pending approval survives a SIGKILL; approved after the restart, the same call sent again goes through without asking again', async () => {
    const file = join(dir, 'sessions.db');
    const port = String(await freePort());
    const first = await gateway(`sqlite:${file}`, ['--port', port]);
    const client = await clientOf(first.url);
    // The SDK client would wait out its own timeout for the dead stream: this caller gives up instead.
    const gaveUp = new AbortController();
    const lost = client
      .callTool({ name: 'slow', arguments: { ms: 33 } }, undefined, { signal: gaveUp.signal })
      .catch((error: unknown) => error);
    const asked = await theOnePending(first.url);
    await first.kill('SIGKILL');
    gaveUp.abort();
    await lost;

    const audit = join(dir, 'audit-restart.jsonl');
    const second = await gateway(`sqlite:${file}`, ['--port', port, '--audit', audit]);
    try {
      expect((await pending(second.url)).map((approval) => approval.id)).toEqual([asked.id]);
      expect((await admin(second.url, `/admin/approvals/${asked.id}/approve`, {})).status).toBe(200);
      const again = await client.callTool({ name: 'slow', arguments: { ms: 33 } });
      expect((again as { content: { text: string }[] }).content[0]!.text).toBe('slow done');
      expect(await pending(second.url)).toEqual([]);
      await expect
        .poll(() => auditLines(audit).find((line) => line['rule'] === 'alice-slow-op'), { timeout: 10_000 })
        .toMatchObject({ decision: 'approve-accepted', approver: 'admin' });
      // Collected: the next identical call is a new question.
      const next = client.callTool({ name: 'slow', arguments: { ms: 33 } }).catch((error: unknown) => error);
      const newer = await theOnePending(second.url);
      expect(newer.id).toBe(asked.id); // the same call has the same approval id, asked anew
      expect((await admin(second.url, `/admin/approvals/${newer.id}/deny`, {})).status).toBe(200);
      expect(await next).toMatchObject({ code: -31051 });
      await client.close();
    } finally {
      await second.kill();
    }
  });
});

describe('approver "operator" on one gateway', () => {
  it('the approval timeout refuses the call, even past a shorter request timeout; bad decisions are 400 and 404; a sessionless call is held too', async () => {
    const audit = join(dir, 'audit-timeout.jsonl');
    const solo = await gatewayInProcess('memory', ['--audit', audit, '--approval-timeout', '3s', '--request-timeout', '1s']);
    try {
      const client = await clientOf(solo.url);
      const started = Date.now();
      const refused = await refusal(client.callTool({ name: 'slow', arguments: { ms: 34 } }, undefined, { timeout: 30_000 }));
      expect(refused).toMatchObject({ code: -31051, message: expect.stringContaining('nobody approved it in time') as string });
      expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
      expect(await pending(solo.url)).toEqual([]);
      await expect
        .poll(() => auditLines(audit).find((line) => line['rule'] === 'alice-slow-op'), { timeout: 10_000 })
        .toMatchObject({ decision: 'approve-timeout', approver: 'operator' });

      expect((await admin(solo.url, '/admin/approvals/nope/approve', {})).status).toBe(404);
      expect((await admin(solo.url, '/admin/approvals/nope/approve', { operator: 'no spaces allowed' })).status).toBe(400);
      expect((await admin(solo.url, '/admin/approvals/nope/deny', ['not an object'])).status).toBe(400);
      expect((await admin(solo.url, '/admin/approvals/nope/deny', { reason: 'x'.repeat(201) })).status).toBe(400);
      const unauthenticated = await fetch(solo.url.replace(/\/mcp$/, '/admin/approvals'));
      expect(unauthenticated.status).toBe(401);
      await client.close();

      // A sessionless (2026-07-28) call is held the same way: its POST stays open until decided.
      const token = await idp.token({ sub: 'alice', aud: solo.url });
      const meta = {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
        'io.modelcontextprotocol/clientInfo': { name: 'sessionless-alice', version: '1' },
      };
      const held = send(solo.url, {
        body: { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'slow', arguments: { ms: 35 }, _meta: meta } },
        headers: { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'slow' },
      });
      const asked = await theOnePending(solo.url);
      expect(asked.call).toMatchObject({ session: null, name: 'slow' });
      expect((await admin(solo.url, `/admin/approvals/${asked.id}/approve`, {})).status).toBe(200);
      const answer = await held;
      expect(answer.status).toBe(200);
      expect(sseMessages(answer.text)).toContainEqual(expect.objectContaining({ id: 7, result: expect.objectContaining({}) as unknown }));
      expect(answer.text).toContain('slow done');
    } finally {
      await solo.kill();
    }
  });
});
