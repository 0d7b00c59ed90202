/**
 * `sessiongate --policy` over real sockets: tokens from a test identity provider, the official
 * SDK client, and an official SDK upstream whose own request log proves what reached it. The
 * documented minimal policy: lists filtered, denials with their reason that never reach the
 * upstream, approval refused while nobody can be asked, a rate limit with Retry-After, the
 * audit's decisions, hot reloads that widen and narrow a live session's view (and one refused),
 * and the sessionless era.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type ElicitRequest,
  ElicitRequestSchema,
  type ElicitResult,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type DemoProcess } from './helpers/demo-process.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { startIdentityProvider, type IdentityProvider } from './helpers/identity-provider.js';
import { send, toolCall } from './helpers/mcp-http.js';
import { MINIMAL_POLICY } from './helpers/policies.js';
import { refusal } from './helpers/refusal.js';
import { startProcess, type ServerProcess } from './helpers/processes.js';
import { freePort, startRedis } from './helpers/redis.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-policy-gw-'));
const policyFile = join(dir, 'policy.json');
const upstreamLog = join(dir, 'upstream.jsonl');
const audit = join(dir, 'audit.jsonl');
let idp: IdentityProvider;
let upstream: ServerProcess;
let gateway: InProcessGateway;

beforeAll(async () => {
  writeFileSync(policyFile, JSON.stringify(MINIMAL_POLICY));
  idp = await startIdentityProvider();
  upstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort()), '--log', upstreamLog]);
  gateway = await startGateway([
    ...['--port', '0', '--store', 'memory', '--upstream', upstream.url, '--upstream-era', 'handshake', '--audit', audit],
    ...['--auth', 'jwt', '--jwks-uri', idp.jwksUri, '--issuer', idp.issuer, '--policy', policyFile, '--approval-timeout', '2s'],
  ]);
}, 30_000);
afterAll(async () => {
  await gateway?.kill();
  await upstream?.kill();
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The official SDK client, signed in as `sub`; with `approve`, it declares elicitation and answers with it. */
async function clientOf(
  sub: string,
  claims: Record<string, unknown> = {},
  approve?: (request: ElicitRequest) => Promise<ElicitResult>,
): Promise<Client> {
  const token = await idp.token({ sub, aud: gateway.url, ...claims });
  const client = new Client({ name: `policy-${sub}`, version: '1' }, approve ? { capabilities: { elicitation: {} } } : {});
  if (approve) client.setRequestHandler(ElicitRequestSchema, (request) => approve(request));
  await client.connect(
    new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  return client;
}

const toolNames = async (client: Client): Promise<string[]> => (await client.listTools()).tools.map((tool) => tool.name).sort();

/** The tools/call names the upstream itself received. */
function upstreamCalls(): string[] {
  return readFileSync(upstreamLog, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { method: string; name: string | null })
    .filter((entry) => entry.method === 'tools/call')
    .map((entry) => entry.name ?? '');
}

describe('--policy (the documented minimal form)', () => {
  it('lists only what a person may use; a denied call is answered with its reason and never reaches the upstream', async () => {
    const alice = await clientOf('alice');
    expect(await toolNames(alice)).toEqual(['echo', 'slow']);
    expect(await alice.callTool({ name: 'echo', arguments: { text: 'allowed' } })).toMatchObject({ content: [{ text: 'allowed' }] });
    const denied = await refusal(alice.callTool({ name: 'whoami', arguments: {} }));
    expect(denied.code).toBe(-31050);
    expect(denied.message).toContain('Denied by policy');

    const bob = await clientOf('bob', { groups: ['ops'] });
    expect(await toolNames(bob)).toEqual([]);
    const suspended = await refusal(bob.callTool({ name: 'echo', arguments: { text: 'x' } }));
    expect(suspended.message).toContain('account suspended');

    const ops = await clientOf('dana', { groups: ['staff', 'ops'] });
    expect(await toolNames(ops)).toEqual(['announce-later', 'ask', 'echo', 'headers', 'search', 'slow', 'stream', 'whoami']);
    expect(await ops.callTool({ name: 'whoami', arguments: {} })).toMatchObject({ content: [{ type: 'text' }] });

    // The upstream's own log: echo from alice and whoami from dana; nothing denied.
    expect(upstreamCalls().sort()).toEqual(['echo', 'whoami']);
    await Promise.all([alice.close(), bob.close(), ops.close()]);
  });

  it('a call that needs approval is refused, saying so, when the client cannot be asked', async () => {
    const alice = await clientOf('alice');
    const error = await refusal(alice.callTool({ name: 'slow', arguments: { ms: 1 } }));
    expect(error.code).toBe(-31051);
    expect(error.message).toContain('cannot be asked');
    expect(upstreamCalls()).not.toContain('slow');
    await alice.close();
  });

  it('asks the caller through elicitation: declined, or unanswered in time, is refused; accepted goes upstream', async () => {
    const questions: string[] = [];
    const declining = await clientOf('alice', {}, async (request) => {
      questions.push(request.params.message);
      return { action: 'decline' };
    });
    expect((await refusal(declining.callTool({ name: 'slow', arguments: { ms: 1 } }))).message).toContain('declined');
    expect(questions[0]).toContain('"slow"');
    expect(questions[0]).toContain('"ms" = 1');

    const silent = await clientOf('alice', {}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 3000)); // past --approval-timeout 2s
      return { action: 'accept', content: { approve: true } };
    });
    expect((await refusal(silent.callTool({ name: 'slow', arguments: { ms: 2 } }))).message).toContain('no answer in time');
    expect(upstreamCalls()).not.toContain('slow');

    const accepting = await clientOf('alice', {}, async () => ({ action: 'accept', content: { approve: true } }));
    expect(await accepting.callTool({ name: 'slow', arguments: { ms: 3 } })).toMatchObject({ content: [{ text: 'slow done' }] });
    expect(upstreamCalls()).toContain('slow');
    await Promise.all([declining.close(), silent.close(), accepting.close()]);
  });

  it('a rate limit refuses the fourth call in a minute with 429 and Retry-After', async () => {
    const token = await idp.token({ sub: 'carol', aud: gateway.url });
    const call = () =>
      send(gateway.url, {
        body: { ...toolCall('echo', { text: 'x' }), params: { name: 'echo', arguments: { text: 'x' }, _meta: META } },
        headers: { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' },
      });
    for (let i = 0; i < 3; i++) expect((await call()).status).toBe(200);
    const limited = await call();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((limited.json as { error: { data: { code: string } } }).error.data.code).toBe('SG_RATE_LIMITED');
  });

  it('the audit line of each call carries the decision and the rule that made it', async () => {
    // The log writes in batches at most 20 ms old (docs/AUDIT.md, "Durability"): wait for the lines.
    const seen = (): string[] =>
      readFileSync(audit, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((event) => event['method'] === 'tools/call')
        .map((event) => `${event['name'] as string}:${event['decision'] as string}:${(event['rule'] as string | null) ?? 'default'}`);
    await expect
      .poll(seen, { timeout: 10_000 })
      .toEqual(
        expect.arrayContaining([
          'echo:allow:alice-echo',
          'whoami:deny:default',
          'echo:deny:bob-out',
          'slow:approve-unavailable:alice-slow',
          'slow:approve-declined:alice-slow',
          'slow:approve-timeout:alice-slow',
          'slow:approve-accepted:alice-slow',
          'echo:rate-limited:carol-echo',
        ]),
      );
  });

  it('a sessionless (2026-07-28) call is decided the same way', async () => {
    const token = await idp.token({ sub: 'alice', aud: gateway.url });
    const answer = await send(gateway.url, {
      body: { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'whoami', arguments: {}, _meta: META } },
      headers: { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'whoami' },
    });
    expect((answer.json as { error: { code: number } }).error.code).toBe(-31050);
  });

  it('a sessionless caller is asked in the multi-round-trip form; the answer counts only for the same person, call and arguments', async () => {
    const token = await idp.token({ sub: 'alice', aud: gateway.url });
    const meta = { ...META, 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } };
    const call = (args: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      send(gateway.url, {
        body: { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'slow', arguments: args, _meta: meta, ...extra } },
        headers: { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'slow' },
      });
    const asked = (await call({ ms: 4 })).json as {
      result: { resultType: string; inputRequests: Record<string, { method: string; params: { message: string } }>; requestState: string };
    };
    expect(asked.result.resultType).toBe('input_required');
    const [question] = Object.values(asked.result.inputRequests);
    expect(question?.method).toBe('elicitation/create');
    expect(question?.params.message).toContain('"ms" = 4');
    const key = Object.keys(asked.result.inputRequests)[0]!;
    const accept = { [key]: { action: 'accept', content: { approve: true } } };
    const before = upstreamCalls().filter((name) => name === 'slow').length;

    const tampered = (await call({ ms: 5 }, { inputResponses: accept, requestState: asked.result.requestState })).json as {
      error: { code: number; message: string };
    };
    expect(tampered.error.code).toBe(-31051);
    const declined = (await call({ ms: 4 }, { inputResponses: { [key]: { action: 'decline' } }, requestState: asked.result.requestState }))
      .json as { error: { message: string } };
    expect(declined.error.message).toContain('declined');
    expect(upstreamCalls().filter((name) => name === 'slow')).toHaveLength(before);

    const done = (await call({ ms: 4 }, { inputResponses: accept, requestState: asked.result.requestState })).json as {
      result: { content: { text: string }[] };
    };
    expect(done.result.content[0]!.text).toBe('slow done');
    expect(upstreamCalls().filter((name) => name === 'slow')).toHaveLength(before + 1);
  });

  it('a reload widens and narrows a live session (which is told: list_changed); an invalid file keeps the policy in force', async () => {
    const alice = await clientOf('alice');
    let changes = 0;
    alice.setNotificationHandler(ToolListChangedNotificationSchema, () => void changes++);
    expect(await toolNames(alice)).toEqual(['echo', 'slow']);
    const widened = {
      ...MINIMAL_POLICY,
      rules: [...MINIMAL_POLICY.rules, { id: 'alice-whoami', effect: 'allow', subjects: ['alice'], tools: ['whoami'] }],
    };
    writeFileSync(policyFile, JSON.stringify(widened));
    // The reload itself tells the live session its list changed (on its GET stream).
    await expect.poll(() => changes, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => toolNames(alice), { timeout: 10_000 }).toEqual(['echo', 'slow', 'whoami']);
    expect(await alice.callTool({ name: 'whoami', arguments: {} })).toMatchObject({ content: [{ type: 'text' }] });

    const narrowed = { ...MINIMAL_POLICY, rules: MINIMAL_POLICY.rules.filter((rule) => rule.id !== 'alice-echo') };
    writeFileSync(policyFile, JSON.stringify(narrowed));
    await expect.poll(() => changes, { timeout: 10_000 }).toBe(2);
    await expect.poll(() => toolNames(alice), { timeout: 10_000 }).toEqual(['slow']);
    expect((await refusal(alice.callTool({ name: 'echo', arguments: { text: 'x' } }))).code).toBe(-31050);

    writeFileSync(policyFile, '{"rules": [{"id": "broken"}]}');
    await expect.poll(() => gateway.output(), { timeout: 10_000 }).toContain('kept the policy in force');
    expect(await toolNames(alice)).toEqual(['slow']);
    expect(changes).toBe(2);
    await alice.close();
  });
});

describe('--policy and a paginated list', () => {
  it('filters each page and keeps its cursor, so walking the pages gives exactly what the person may read', async () => {
    const pagedUpstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort()), '--paged']);
    const file = join(dir, 'paged-policy.yaml');
    writeFileSync(file, 'rules:\n  - id: alice-ones\n    effect: allow\n    subjects: [alice]\n    resources: ["test://item/1*"]\n');
    const paged = await startGateway([
      ...['--port', '0', '--store', 'memory', '--upstream', pagedUpstream.url, '--upstream-era', 'handshake'],
      ...['--auth', 'jwt', '--jwks-uri', idp.jwksUri, '--issuer', idp.issuer, '--policy', file],
    ]);
    try {
      const token = await idp.token({ sub: 'alice', aud: paged.url });
      const client = new Client({ name: 'pager', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(paged.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
      );
      const seen: string[] = [];
      let pages = 0;
      let cursor: string | undefined;
      do {
        const page = await client.listResources(cursor === undefined ? {} : { cursor });
        pages++;
        seen.push(...page.resources.map((resource) => resource.uri));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(pages).toBe(3);
      expect(seen).toEqual(['test://item/1', ...Array.from({ length: 10 }, (_, i) => `test://item/${10 + i}`)]);
      await client.close();
    } finally {
      await paged.kill();
      await pagedUpstream.kill();
    }
  });
});

describe('--policy on replicas sharing a Redis store', () => {
  it('a rate limit is one bucket for both replicas; an approval asked by one is answered to the other; remember spares a second question', async () => {
    const redis = await startRedis();
    const file = join(dir, 'replica-policy.json');
    const remembering = { id: 'alice-stream', effect: 'approve', subjects: ['alice'], tools: ['stream'], remember: '10m' };
    writeFileSync(file, JSON.stringify({ ...MINIMAL_POLICY, rules: [...MINIMAL_POLICY.rules, remembering] }));
    const flags = [
      ...['--port', '0', '--store', redis.url, '--upstream', upstream.url, '--upstream-era', 'handshake'],
      ...['--auth', 'jwt', '--jwks-uri', idp.jwksUri, '--issuer', idp.issuer, '--policy', file],
    ];
    const replicas = [await startCli(flags), await startCli(flags)];
    try {
      const call = async (replica: DemoProcess) => {
        const token = await idp.token({ sub: 'carol', aud: replica.url });
        return send(replica.url, {
          body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: META } },
          headers: {
            authorization: `Bearer ${token}`,
            'mcp-protocol-version': '2026-07-28',
            'mcp-method': 'tools/call',
            'mcp-name': 'echo',
          },
        });
      };
      const [a, b] = replicas as [DemoProcess, DemoProcess];
      expect([(await call(a)).status, (await call(b)).status, (await call(a)).status]).toEqual([200, 200, 200]);
      const limited = await call(b);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await call(a)).status).toBe(429);

      // The multi-round-trip approval: the question from one replica, the answer to the other.
      const ask = async (replica: DemoProcess, extra: Record<string, unknown> = {}) => {
        const token = await idp.token({ sub: 'alice', aud: replica.url });
        const meta = { ...META, 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } };
        return send(replica.url, {
          body: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'slow', arguments: { ms: 6 }, _meta: meta, ...extra } },
          headers: {
            authorization: `Bearer ${token}`,
            'mcp-protocol-version': '2026-07-28',
            'mcp-method': 'tools/call',
            'mcp-name': 'slow',
          },
        });
      };
      const question = (await ask(a)).json as { result: { inputRequests: Record<string, unknown>; requestState: string } };
      const key = Object.keys(question.result.inputRequests)[0]!;
      const answered = await ask(b, {
        inputResponses: { [key]: { action: 'accept', content: { approve: true } } },
        requestState: question.result.requestState,
      });
      expect((answered.json as { result: { content: { text: string }[] } }).result.content[0]!.text).toBe('slow done');

      // remember: one approval covers the identical call; other arguments are asked again.
      let questions = 0;
      const token = await idp.token({ sub: 'alice', aud: a.url });
      const client = new Client({ name: 'remembering', version: '1' }, { capabilities: { elicitation: {} } });
      client.setRequestHandler(ElicitRequestSchema, async () => (questions++, { action: 'accept', content: { approve: true } }));
      await client.connect(
        new StreamableHTTPClientTransport(new URL(a.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
      );
      for (const count of [1, 1, 2]) await client.callTool({ name: 'stream', arguments: { count, size: 1 } });
      expect(questions).toBe(2);
      await client.close();
    } finally {
      for (const replica of replicas) await replica.kill();
      await redis.stop();
    }
  });
});

const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'policy-test', version: '1.0.0' },
};
