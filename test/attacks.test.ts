/**
 * Issue 34: what the gateway promises, tried by someone who reads the docs and walks around
 * them. A real gateway process (`sessiongate`), a real identity provider on loopback, and an
 * official-SDK server (fixtures/sdk-vault-server.mjs) that logs every handler it runs: what
 * counts is what the upstream did, never what the gateway thinks it forwarded. Each test here
 * failed before its fix (docs/SECURITY.md lists the guarantees).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type ElicitRequest, ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type DemoProcess } from './helpers/demo-process.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { startIdentityProvider, type IdentityProvider } from './helpers/identity-provider.js';
import { initializeRequest, postStream, send, toolCall } from './helpers/mcp-http.js';
import { refusal } from './helpers/refusal.js';
import { startProcess, type ServerProcess } from './helpers/processes.js';
import { freePort, startRedis } from './helpers/redis.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-attacks-'));
const vaultLog = join(dir, 'vault.jsonl');
const auditFile = join(dir, 'audit.jsonl');
const PARTNER = 'https://partner.example.com';
const POLICY = {
  default: 'deny',
  rules: [
    { id: 'vault-public', effect: 'allow', resources: ['secret://vault/public/*'] },
    { id: 'files-srv', effect: 'allow', resources: ['file:///srv/*'] },
    { id: 'no-etc', effect: 'deny', resources: ['file:///etc/*'], reason: 'system files' },
    { id: 'prompts', effect: 'allow', prompts: ['*'] },
    { id: 'no-secret-prompt', effect: 'deny', prompts: ['secret_prompt'], reason: 'secret' },
    { id: 'people-run', effect: 'approve', subjects: ['alice', 'bob', 'mallory'], tools: ['run'] },
    { id: 'alice-echo', effect: 'allow', subjects: ['alice'], tools: ['echo'] },
    { id: 'partner-echo', effect: 'allow', issuers: [PARTNER], subjects: ['carol'], tools: ['echo'] },
  ],
};
let idp: IdentityProvider;
let vault: ServerProcess;
let gateway: InProcessGateway;

beforeAll(async () => {
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(POLICY));
  idp = await startIdentityProvider();
  vault = await startProcess('sdk-vault-server.mjs', [String(await freePort()), '--log', vaultLog]);
  gateway = await startGateway([
    ...['--port', '0', '--store', 'memory', '--upstream', vault.url, '--upstream-era', 'handshake', '--audit', auditFile],
    ...['--auth', 'jwt', '--jwks-uri', idp.jwksUri, '--issuer', idp.issuer, '--issuer', PARTNER],
    ...['--policy', policyFile, '--approval-timeout', '20s'],
  ]);
}, 30_000);
afterAll(async () => {
  await gateway?.kill();
  await vault?.kill();
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Ran = { ran: string; uri?: string; name?: string; ref?: string; arguments?: Record<string, unknown> };
/** What the vault server's handlers ran. */
const ran = (): Ran[] =>
  readFileSync(vaultLog, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Ran);
const auditLines = (): Record<string, unknown>[] =>
  readFileSync(auditFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

async function signedIn(
  sub: string,
  answer?: (request: ElicitRequest) => Promise<ElicitResult>,
  token?: string,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const bearer = token ?? (await idp.token({ sub, aud: gateway.url }));
  const client = new Client({ name: `attack-${sub}`, version: '1' }, answer ? { capabilities: { elicitation: {} } } : {});
  if (answer) client.setRequestHandler(ElicitRequestSchema, (request) => answer(request));
  const transport = new StreamableHTTPClientTransport(new URL(gateway.url), {
    requestInit: { headers: { authorization: `Bearer ${bearer}` } },
  });
  await client.connect(transport);
  return { client, transport };
}

describe('policy decides on the URI the server reads', () => {
  it('dot segments, %2e%2e, case, blanks, localhost and // do not walk around a rule; the upstream gets the normal form', async () => {
    const { client } = await signedIn('alice');
    const read = (uri: string) => client.readResource({ uri });
    // The allowed entry reads, and its spelled-around neighbour does not.
    expect((await read('secret://vault/public/readme')).contents[0]).toMatchObject({ text: 'public readme' });
    for (const uri of [
      'secret://vault/public/../private/key',
      'secret://vault/public/%2e%2e/private/key',
      'secret://vault/public/.%2E/private/key',
      'secret://vault/public/./../private/key',
      'file:///srv/../etc/passwd',
    ]) {
      const error = await refusal(read(uri));
      expect(error.code, uri).toBe(-31050);
    }
    // Deny rules hold against every spelling of what they name.
    for (const uri of [
      'FILE:///etc/passwd',
      'file://localhost/etc/passwd',
      ' file:///etc/passwd',
      '\tfile:///etc/passwd',
      'file:///etc/./passwd',
    ]) {
      const error = await refusal(read(uri));
      expect(error.message, uri).toContain('system files');
    }
    // What has no one reading (an empty segment, an encoded slash, no scheme) is refused, not guessed at.
    for (const uri of ['file:////etc/passwd', 'file:///srv/a%2F..%2F..%2Fetc/passwd', 'secret:opaque/../x', 'not a uri']) {
      // HTTP 400 with -32602 in the body, which the SDK client reports as its HTTP status.
      const error = await refusal(read(uri));
      expect(error.message, uri).toContain('Invalid params: the resource URI is refused');
    }
    // A spelling that normalizes into the allowed area reads, and the upstream got the normal form.
    expect((await read('SECRET://VAULT/public/./readme')).contents[0]).toMatchObject({ text: 'public readme' });
    const reads = ran().filter((entry) => entry.ran === 'read');
    expect(reads.map((entry) => entry.uri)).toEqual(['secret://vault/public/readme', 'secret://vault/public/readme']);
    expect(reads.some((entry) => entry.uri?.includes('private') || entry.uri?.includes('etc'))).toBe(false);
    // The audit names the URI that went upstream.
    await expect
      .poll(() =>
        auditLines()
          .filter((line) => line['method'] === 'resources/read' && line['decision'] === 'allow')
          .map((line) => line['name']),
      )
      .toEqual(['secret://vault/public/readme', 'secret://vault/public/readme']);
    await client.close();
  });

  it('a completion is governed by what it completes: a denied prompt completes nothing; so does a template no rule allows', async () => {
    const { client } = await signedIn('alice');
    const promptCompletion = await refusal(
      client.complete({ ref: { type: 'ref/prompt', name: 'secret_prompt' }, argument: { name: 'code', value: 's' } }),
    );
    expect(promptCompletion.code).toBe(-31050);
    const templateCompletion = await refusal(
      client.complete({ ref: { type: 'ref/resource', uri: 'secret://vault/{area}/{key}' }, argument: { name: 'area', value: 'p' } }),
    );
    expect(templateCompletion.code).toBe(-31050);
    expect(ran().filter((entry) => entry.ran === 'complete')).toEqual([]);
    await expect
      .poll(() =>
        auditLines()
          .filter((line) => line['method'] === 'completion/complete')
          .map((line) => [line['name'], line['decision']]),
      )
      .toEqual([
        ['secret_prompt', 'deny'],
        ['secret://vault/{area}/{key}', 'deny'],
      ]);
    await client.close();
  });
});

describe('who a rule is about', () => {
  it("another issuer's sub: alice is not Alice; a rule naming that issuer is about its people", async () => {
    const partnerToken = (sub: string) =>
      new SignJWT({ sub, aud: gateway.url })
        .setProtectedHeader({ alg: idp.keys[0]!.alg, kid: idp.keys[0]!.kid })
        .setIssuer(PARTNER)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(idp.keys[0]!.privateKey);
    const partnerAlice = await signedIn('alice', undefined, await partnerToken('alice'));
    expect((await refusal(partnerAlice.client.callTool({ name: 'echo', arguments: { text: 'x' } }))).code).toBe(-31050);
    const carol = await signedIn('carol', undefined, await partnerToken('carol'));
    expect(await carol.client.callTool({ name: 'echo', arguments: { text: 'carol' } })).toMatchObject({ content: [{ text: 'carol' }] });
    const ownCarol = await signedIn('carol');
    expect((await refusal(ownCarol.client.callTool({ name: 'echo', arguments: { text: 'x' } }))).code).toBe(-31050);
    expect(
      ran()
        .filter((entry) => entry.ran === 'tool' && entry.name === 'echo')
        .map((entry) => entry.arguments),
    ).toEqual([{ text: 'carol' }]);
    await Promise.all([partnerAlice.client.close(), carol.client.close(), ownCarol.client.close()]);
  });

  it('a token issued in the future is refused', async () => {
    const token = await new SignJWT({ sub: 'alice', aud: gateway.url })
      .setProtectedHeader({ alg: idp.keys[0]!.alg, kid: idp.keys[0]!.kid })
      .setIssuer(idp.issuer)
      .setIssuedAt(Math.floor(Date.now() / 1000) + 3600)
      .setExpirationTime('2h')
      .sign(idp.keys[0]!.privateKey);
    const answer = await send(gateway.url, {
      body: {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      },
      headers: { authorization: `Bearer ${token}` },
    });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toContain('iat');
  });
});

/** The ids of the elicitation requests a client's transport receives (read off the wire, beside the SDK). */
function questionIds(transport: StreamableHTTPClientTransport): (string | number)[] {
  const ids: (string | number)[] = [];
  const original = transport.onmessage;
  transport.onmessage = (message) => {
    if ('method' in message && message.method === 'elicitation/create' && 'id' in message) ids.push(message.id);
    original?.(message);
  };
  return ids;
}

const runs = (): Ran[] => ran().filter((entry) => entry.ran === 'tool' && entry.name === 'run');

describe('approvals only the asked person can give', () => {
  it("another session's answer to Bob's question is ignored (and audited); Bob's own answer decides", async () => {
    let bobAnswers!: (result: ElicitResult) => void;
    const bob = await signedIn('bob', () => new Promise((resolve) => (bobAnswers = resolve)));
    const bobIds = questionIds(bob.transport);
    const bobCall = bob.client.callTool({ name: 'run', arguments: { cmd: 'rm -rf /home/bob' } });
    await expect.poll(() => bobIds.length).toBe(1);
    // Mallory's own question's id tells her nothing of the next one: 128 random bits each.
    const mallory = await signedIn('mallory', async () => ({ action: 'decline' }));
    const malloryIds = questionIds(mallory.transport);
    await refusal(mallory.client.callTool({ name: 'run', arguments: { cmd: 'true' } }));
    expect(String(malloryIds[0])).toMatch(/^sessiongate-approval-[A-Za-z0-9_-]{22}$/);
    expect(String(bobIds[0])).toMatch(/^sessiongate-approval-[A-Za-z0-9_-]{22}$/);
    // Even holding Bob's id, her accept in her own session does nothing but leave an audit line.
    await mallory.transport.send({ jsonrpc: '2.0', id: bobIds[0]!, result: { action: 'accept', content: {} } });
    await expect.poll(() => auditLines().filter((line) => line['event'] === 'approval.stray-answer').length).toBe(1);
    expect(runs()).toEqual([]);
    bobAnswers({ action: 'decline' });
    expect((await refusal(bobCall)).message).toContain('the user declined it');
    expect(runs()).toEqual([]);
    await Promise.all([bob.client.close(), mallory.client.close()]);
  });

  it('pressing Accept approves, with every argument shown whole, short ones first; arguments too long to show are refused', async () => {
    const questions: string[] = [];
    const alice = await signedIn('alice', async (request) => {
      questions.push(request.params.message);
      expect(request.params).toMatchObject({ requestedSchema: { type: 'object', properties: {} } });
      return { action: 'accept', content: {} };
    });
    const note = 'routine cleanup, nothing to see here. '.repeat(50);
    const done = await alice.client.callTool({ name: 'run', arguments: { note, cmd: 'rm -rf / --no-preserve-root' } });
    expect(done).toMatchObject({ content: [{ text: 'ran rm -rf / --no-preserve-root' }] });
    const lines = questions[0]!.split('\n');
    expect(lines).toContain('"cmd" = "rm -rf / --no-preserve-root"');
    expect(lines).toContain(`"note" = ${JSON.stringify(note)}`);
    expect(lines.findIndex((line) => line.startsWith('"cmd"'))).toBeLessThan(lines.findIndex((line) => line.startsWith('"note"')));
    const huge = await refusal(alice.client.callTool({ name: 'run', arguments: { note: 'x'.repeat(9000), cmd: 'true' } }));
    expect(huge.message).toContain('too long to be shown in full');
    expect(questions).toHaveLength(1);
    expect(runs().map((entry) => entry.arguments?.['cmd'])).toEqual(['rm -rf / --no-preserve-root']);
    await alice.client.close();
  });

  it('Decline and Cancel refuse, saying which', async () => {
    const dismissing = await signedIn('alice', async () => ({ action: 'cancel' }));
    expect((await refusal(dismissing.client.callTool({ name: 'run', arguments: { cmd: 'cancelled' } }))).message).toContain(
      'dismissed the question without deciding',
    );
    await dismissing.client.close();
  });

  it('a sessionless approval state approves one call: replaying it runs nothing more', async () => {
    const token = await idp.token({ sub: 'alice', aud: gateway.url });
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
      'io.modelcontextprotocol/clientInfo': { name: 'replay', version: '1.0.0' },
    };
    const call = (extra: Record<string, unknown> = {}) =>
      send(gateway.url, {
        body: { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'run', arguments: { cmd: 'once' }, _meta: meta, ...extra } },
        headers: { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'run' },
      });
    const asked = (await call()).json as { result: { inputRequests: Record<string, unknown>; requestState: string } };
    const key = Object.keys(asked.result.inputRequests)[0]!;
    const answer = { inputResponses: { [key]: { action: 'accept', content: {} } }, requestState: asked.result.requestState };
    const first = (await call(answer)).json as { result?: unknown };
    expect(first.result).toMatchObject({ content: [{ text: 'ran once' }] });
    for (let replay = 0; replay < 3; replay++) {
      const again = (await call(answer)).json as { error: { code: number; message: string } };
      expect(again.error.code).toBe(-31051);
      expect(again.error.message).toContain('already used');
    }
    expect(runs().filter((entry) => entry.arguments?.['cmd'] === 'once')).toHaveLength(1);
  });
});

describe('nobody stalls everyone', () => {
  it('a stranger is refused before the body is read or parsed; a deep body is refused at its 66th bracket', async () => {
    const deep = '['.repeat(4 * 1024 * 1024 - 1024);
    const stranger = await send(gateway.url, { rawBody: deep });
    expect(stranger.status).toBe(401);
    const token = await idp.token({ sub: 'alice', aud: gateway.url });
    const known = await send(gateway.url, { rawBody: deep, headers: { authorization: `Bearer ${token}` } });
    expect(known.status).toBe(400);
    expect(known.text).toContain('nested deeper than 64 levels');
    // Brackets inside strings are text, not nesting.
    const inString = await send(gateway.url, {
      rawBody: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { note: '['.repeat(10_000) } }),
      headers: { authorization: `Bearer ${token}` },
    });
    expect(inString.text).not.toContain('nested deeper');
  });
});

describe('servers: rules in a federation hold whatever was listed, by whom, in which spelling', () => {
  let fed: InProcessGateway;
  let other: ServerProcess;
  const otherLog = join(dir, 'other.jsonl');
  beforeAll(async () => {
    other = await startProcess('sdk-stateful-server.mjs', [String(await freePort()), '--paged', '--log', otherLog]);
    const policyFile = join(dir, 'federated-policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({ default: 'allow', rules: [{ id: 'no-b', effect: 'deny', servers: ['b'], reason: 'b is closed' }] }),
    );
    fed = await startGateway([
      ...['--port', '0', '--store', 'memory', '--server', `a=${vault.url}`, '--server', `b=${other.url}`],
      ...['--auth', 'jwt', '--jwks-uri', idp.jwksUri, '--issuer', idp.issuer, '--policy', policyFile],
    ]);
  }, 30_000);
  afterAll(async () => {
    await fed?.kill();
    await other?.kill();
  });
  const otherRan = (): { method: string; name: string | null }[] =>
    readFileSync(otherLog, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { method: string; name: string | null })
      .filter(
        (entry) => typeof entry.method === 'string' && (entry.method.startsWith('resources/') || entry.method === 'completion/complete'),
      );

  async function client(sub: string): Promise<Client> {
    const token = await idp.token({ sub, aud: fed.url });
    const mcp = new Client({ name: `fed-${sub}`, version: '1' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(fed.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
    );
    return mcp;
  }

  it("a read before any list, a re-spelled URI, and a read routed by another person's list never reach the denied server", async () => {
    const bob = await client('bob');
    // Nobody has listed anything: the URI is asked of the servers in order, and b is never asked.
    for (const uri of ['test://item/3', 'TEST://item/./3', 'test://item/x/../3'])
      expect((await refusal(bob.readResource({ uri }))).message, uri).toContain('b is closed');
    // Alice lists (b's entries are filtered out for her too, but the gateway learns who has them).
    const alice = await client('alice');
    expect((await alice.listResources()).resources.map((entry) => entry.uri)).not.toContain('test://item/3');
    await alice.listResourceTemplates();
    expect((await refusal(bob.readResource({ uri: 'test://item/3' }))).message).toContain('b is closed');
    const completion = await refusal(
      bob.complete({ ref: { type: 'ref/resource', uri: 'test://item/{n}' }, argument: { name: 'n', value: '1' } }),
    );
    expect(completion.message).toContain('b is closed');
    // b's own log: lists (made for Alice), never a read or a completion.
    expect(otherRan().filter((entry) => entry.method !== 'resources/list' && entry.method !== 'resources/templates/list')).toEqual([]);
    // a is still asked, and answers what it has.
    expect((await bob.readResource({ uri: 'secret://vault/public/readme' })).contents[0]).toMatchObject({ text: 'public readme' });
    await Promise.all([alice.close(), bob.close()]);
  });
});

describe('one person cannot hold every upstream connection', () => {
  it("Alice's slow calls from three sessions fill only her share: Bob's echo is answered while all of hers still run", async () => {
    const slowLog = join(dir, 'slow.jsonl');
    const upstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort()), '--log', slowLog]);
    const shared = await startGateway([
      ...['--port', '0', '--store', 'memory', '--upstream', upstream.url, '--upstream-era', 'handshake', '--upstream-concurrency', '4'],
      ...['--auth', 'jwt', '--jwks-uri', idp.jwksUri, '--issuer', idp.issuer],
    ]);
    try {
      const connect = async (sub: string): Promise<Client> => {
        const token = await idp.token({ sub, aud: shared.url });
        const mcp = new Client({ name: `share-${sub}`, version: '1' });
        await mcp.connect(
          new StreamableHTTPClientTransport(new URL(shared.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
        );
        return mcp;
      };
      const alice = await Promise.all([connect('alice'), connect('alice'), connect('alice')]);
      const slowCalls = alice.flatMap((session) =>
        [0, 1].map(() => session.callTool({ name: 'slow', arguments: { ms: 6000 } }, undefined, { timeout: 60_000 })),
      );
      const slowStarted = (): number =>
        readFileSync(slowLog, 'utf8')
          .split('\n')
          .filter((line) => line.includes('"name":"slow"')).length;
      // Her share (2 of 4) reaches the upstream; the other four wait their turn at the gateway.
      await expect.poll(slowStarted, { timeout: 10_000 }).toBe(2);
      const bob = await connect('bob');
      expect(await bob.callTool({ name: 'echo', arguments: { text: 'not stuck' } })).toMatchObject({ content: [{ text: 'not stuck' }] });
      // Answered while every one of Alice's slow calls was still running: none has finished.
      expect(readFileSync(slowLog, 'utf8')).not.toContain('slowDone');
      // Nothing more to wait for: the clients leave (their calls are cancelled).
      await Promise.all([...alice, bob].map((mcp) => mcp.close()));
      await Promise.allSettled(slowCalls);
    } finally {
      await shared.kill();
      await upstream.kill();
    }
  }, 60_000);
});

describe('memory has a default bound', () => {
  it('anonymous sessions stop at 1,000 together by default (bench/RESULTS.md: what each may cost)', async () => {
    const bounded = await startGateway(['--port', '0', '--store', 'memory', '--upstream', vault.url, '--upstream-era', 'handshake']);
    try {
      expect(bounded.output()).toMatch(/sessions: .*max \d+ sessions, max 1000 per person, max 1000 anonymous together/);
      const pad = 'x'.repeat(1024);
      const open = (i: number) =>
        send(bounded.url, {
          body: {
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: {
              protocolVersion: '2025-11-25',
              capabilities: { experimental: { pad: { data: pad } } },
              clientInfo: { name: `anon-${i}`, version: '1' },
            },
          },
        });
      for (let batch = 0; batch < 1000; batch += 100) {
        const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => open(batch + i)));
        expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 100 }, () => 200));
      }
      const refused = await open(1000);
      expect(refused.status).toBe(503);
      expect(refused.text).toContain('SG_SESSION_LIMIT');
    } finally {
      await bounded.kill();
    }
  }, 60_000);
});

describe('approvals across replicas sharing a Redis store', () => {
  /** Both replicas are one resource: tokens name it, not either replica's address. */
  const SHARED = 'https://gateway.example.com/mcp';
  it("an answer posted to the other replica reaches Bob's question; Mallory's there is stray; a spent state stays spent", async () => {
    const redis = await startRedis();
    const policyFile = join(dir, 'replica-policy.json');
    writeFileSync(policyFile, JSON.stringify({ default: 'deny', rules: [{ id: 'run', effect: 'approve', tools: ['run'] }] }));
    const auditOf = (name: string) => join(dir, `replica-${name}.jsonl`);
    const flags = (name: string) => [
      ...['--port', '0', '--store', redis.url, '--upstream', vault.url, '--upstream-era', 'handshake', '--audit', auditOf(name)],
      ...['--auth', 'jwt', '--jwks-uri', idp.jwksUri, '--issuer', idp.issuer, '--policy', policyFile, '--audience', SHARED],
    ];
    const [a, b] = [await startCli(flags('a')), await startCli(flags('b'))];
    try {
      const sessionOf = async (sub: string) => {
        const token = await idp.token({ sub, aud: SHARED });
        const init = initializeRequest();
        (init['params'] as { capabilities: object }).capabilities = { elicitation: {} };
        const opened = await send(a.url, { body: init, headers: { authorization: `Bearer ${token}` } });
        const headers = {
          authorization: `Bearer ${token}`,
          'mcp-session-id': opened.headers.get('mcp-session-id')!,
          'mcp-protocol-version': '2025-11-25',
        };
        await send(a.url, { body: { jsonrpc: '2.0', method: 'notifications/initialized' }, headers });
        return headers;
      };
      const bob = await sessionOf('bob');
      const mallory = await sessionOf('mallory');
      const call = await postStream(a.url, bob, toolCall('run', { cmd: 'bob-on-a' }, 5));
      const question = (await call.next(10_000)) as { id: string; method: string };
      expect(question.method).toBe('elicitation/create');
      // Mallory, on replica b, in her own session, with Bob's question's id.
      const stray = await send(b.url, {
        body: { jsonrpc: '2.0', id: question.id, result: { action: 'accept', content: {} } },
        headers: mallory,
      });
      expect(stray.status).toBe(202);
      await expect.poll(() => readFileSync(auditOf('b'), 'utf8'), { timeout: 5000 }).toContain('"event":"approval.stray-answer"');
      // Bob answers on replica b: relayed to a, which holds the question.
      const answered = await send(b.url, {
        body: { jsonrpc: '2.0', id: question.id, result: { action: 'accept', content: {} } },
        headers: bob,
      });
      expect(answered.status).toBe(202);
      expect(await call.next(10_000)).toMatchObject({ id: 5, result: { content: [{ text: 'ran bob-on-a' }] } });
      expect(runs().filter((entry) => entry.arguments?.['cmd'] === 'bob-on-a')).toHaveLength(1);

      // A sessionless state spent on a is spent on b too.
      const token = await idp.token({ sub: 'carol', aud: SHARED });
      const meta = {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': { elicitation: {} },
        'io.modelcontextprotocol/clientInfo': { name: 'replay', version: '1.0.0' },
      };
      const sessionless = (replica: DemoProcess, extra: Record<string, unknown> = {}) =>
        send(replica.url, {
          body: {
            jsonrpc: '2.0',
            id: 8,
            method: 'tools/call',
            params: { name: 'run', arguments: { cmd: 'carol-once' }, _meta: meta, ...extra },
          },
          headers: {
            authorization: `Bearer ${token}`,
            'mcp-protocol-version': '2026-07-28',
            'mcp-method': 'tools/call',
            'mcp-name': 'run',
          },
        });
      const asked = (await sessionless(a)).json as { result: { inputRequests: Record<string, unknown>; requestState: string } };
      const key = Object.keys(asked.result.inputRequests)[0]!;
      const answer = { inputResponses: { [key]: { action: 'accept', content: {} } }, requestState: asked.result.requestState };
      expect(((await sessionless(a, answer)).json as { result?: unknown }).result).toMatchObject({ content: [{ text: 'ran carol-once' }] });
      expect(((await sessionless(b, answer)).json as { error: { message: string } }).error.message).toContain('already used');
      expect(runs().filter((entry) => entry.arguments?.['cmd'] === 'carol-once')).toHaveLength(1);
    } finally {
      await a.kill();
      await b.kill();
      await redis.stop();
    }
  }, 60_000);
});

describe('sessiongate policy explain decides as the gateway does', () => {
  it('for tools, resources in any spelling, prompts, completions, other issuers and federated servers', async () => {
    const policyFile = join(dir, 'explain-policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({ ...POLICY, rules: [...POLICY.rules, { id: 'no-b', effect: 'deny', servers: ['b'], reason: 'b is closed' }] }),
    );
    const explain = async (...args: string[]) => {
      const result = await runCli(['policy', 'explain', policyFile, ...args]);
      return result.code === 0 ? /decision: (\w+)/.exec(result.stdout)?.[1] : `refused: ${result.stderr.trim()}`;
    };
    const cases: [string[], string][] = [
      [['--subject', 'alice', '--tool', 'echo'], 'allow'],
      [['--subject', 'alice', '--issuer', PARTNER, '--default-issuer', idp.issuer, '--tool', 'echo'], 'deny'],
      [['--subject', 'carol', '--issuer', PARTNER, '--default-issuer', idp.issuer, '--tool', 'echo'], 'allow'],
      [['--resource', 'secret://vault/public/readme'], 'allow'],
      [['--resource', 'secret://vault/public/../private/key'], 'deny'],
      [['--resource', 'FILE://localhost/etc/passwd'], 'deny'],
      [['--prompt', 'secret_prompt'], 'deny'],
      [['--completion', '--prompt', 'secret_prompt'], 'deny'],
      [['--completion', '--resource', 'secret://vault/{area}/{key}'], 'deny'],
      [['--subject', 'alice', '--tool', 'run'], 'approve'],
      [['--resource', 'secret://vault/public/readme', '--server', 'b'], 'deny'],
      [['--resource', 'secret://vault/public/readme', '--server', 'a'], 'allow'],
    ];
    // Fourteen runs of the command: three at a time, so a loaded machine's slow process starts add up less.
    const decided: (string | undefined)[] = [];
    for (let at = 0; at < cases.length; at += 3)
      decided.push(...(await Promise.all(cases.slice(at, at + 3).map(([args]) => explain(...args)))));
    cases.forEach(([args, expected], i) => expect(decided[i], args.join(' ')).toBe(expected));
    expect(await explain('--resource', 'file:////etc/passwd')).toContain('refused: refused before any rule');
    expect((await runCli(['policy', 'explain', policyFile, '--method', 'tools/list'])).stdout).toContain('not governed');
  }, 120_000);
});
