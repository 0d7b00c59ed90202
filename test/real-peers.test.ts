/**
 * The gateway and the client against peers nobody here wrote: the reference
 * `@modelcontextprotocol/server-everything` over Streamable HTTP and over stdio, driven by the
 * official SDK client. Each test here failed before the fix it names (issue "what real peers
 * broke").
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionClientTransport } from '../src/client/session-client-transport.js';
import { runCli, startCli, type DemoProcess } from './helpers/demo-process.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { EVERYTHING_STDIO, startEverythingHttp, type EverythingHttp } from './helpers/everything.js';
import { openGetStream, openSession, send } from './helpers/mcp-http.js';
import { childrenOf, isAlive } from './helpers/processes.js';
import { inspectorCli, viaMcpRemote } from './helpers/peer-clients.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The command's gateway, in this process (helpers/in-process-gateway.ts). */
async function gateway(args: string[]): Promise<InProcessGateway> {
  const started = await startGateway(['--port', '0', '--store', 'memory', ...args]);
  cleanups.push(() => started.kill());
  return started;
}

/** The real command, for what its environment or its child processes show. */
async function gatewayProcess(args: string[], env: Record<string, string> = {}): Promise<DemoProcess> {
  const started = await startCli(['--port', '0', '--store', 'memory', ...args], env);
  cleanups.push(() => started.kill('SIGKILL'));
  return started;
}

async function everything(port?: number): Promise<EverythingHttp> {
  const server = await startEverythingHttp(port);
  cleanups.push(() => server.kill());
  return server;
}

async function sdkClient(url: string): Promise<Client> {
  const client = new Client({ name: 'real-peer-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  cleanups.push(() => client.close());
  return client;
}

function text(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}

describe('server-everything over HTTP', () => {
  it('the gateway heals a session the upstream lost to a restart, though the upstream answers 400 (not 404)', async () => {
    const upstream = await everything();
    const { url } = await gateway(['--upstream', upstream.url]);
    const client = await sdkClient(url);
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'before' } }))).toContain('before');
    await upstream.kill();
    await everything(upstream.port);
    // The restarted server knows no session: it answers 400 "No valid session ID provided".
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'after' } }))).toContain('after');
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'again' } }))).toContain('again');
  });

  it('SessionClientTransport re-initializes on the 400 a restarted reference server answers', async () => {
    const upstream = await everything();
    let recovered = 0;
    const client = new Client({ name: 'real-peer-test', version: '1' });
    await client.connect(new SessionClientTransport(upstream.url, { onRecovered: () => recovered++ }));
    cleanups.push(() => client.close());
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'one' } }))).toContain('one');
    await upstream.kill();
    await everything(upstream.port);
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'two' } }))).toContain('two');
    expect(recovered).toBe(1);
  });
});

describe('server-everything over stdio', () => {
  it("a child sees none of the gateway's secrets, only the harmless list and what --stdio-env names", async () => {
    const { url } = await gatewayProcess(
      ['--stdio', EVERYTHING_STDIO, '--spares', '0', '--stdio-env', 'KEPT_FOR_CHILD', '--stdio-env', 'SET_FOR_CHILD=fixed'],
      {
        SESSIONGATE_ADMIN_TOKEN: 'admin-token-that-must-not-leak',
        REDIS_PASSWORD: 'redis-secret-that-must-not-leak',
        KEPT_FOR_CHILD: 'copied',
      },
    );
    const client = await sdkClient(url);
    const env = JSON.parse(text(await client.callTool({ name: 'get-env', arguments: {} }))) as Record<string, string>;
    expect(JSON.stringify(env)).not.toContain('must-not-leak');
    expect(Object.keys(env).filter((name) => name.startsWith('SESSIONGATE_'))).toEqual([]);
    expect(env['KEPT_FOR_CHILD']).toBe('copied');
    expect(env['SET_FOR_CHILD']).toBe('fixed');
    expect(env['PATH']).toBe(process.env['PATH']);
  });

  it('what the child sends during resources/subscribe reaches the client (it was dropped)', async () => {
    const { url } = await gateway(['--stdio', EVERYTHING_STDIO, '--spares', '0']);
    const client = await sdkClient(url);
    const logs: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => void logs.push(String(notification.params.data)));
    await client.subscribeResource({ uri: 'demo://resource/dynamic/text/1' });
    expect(logs.some((line) => line.includes('Received Subscribe Resource request'))).toBe(true);
  });

  it('the list_changed the child sends right after initialized, before the GET stream opens, reaches the client (it was lost)', async () => {
    const { url } = await gateway(['--stdio', EVERYTHING_STDIO, '--spares', '0']);
    const client = new Client({ name: 'real-peer-test', version: '1' });
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changes++);
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    cleanups.push(() => client.close());
    // server-everything registers its conditional tools in oninitialized, announcing each.
    await vi.waitFor(() => expect(changes).toBeGreaterThan(0), { timeout: 10_000, interval: 50 });
  });

  it('refuses to give a child a SESSIONGATE_* variable', async () => {
    const result = await runCli(['--stdio', EVERYTHING_STDIO, '--stdio-env', 'SESSIONGATE_ADMIN_TOKEN']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('never given to a child');
  });
});

describe('a session at work is not idle', () => {
  // Three idle timeouts long: a call that only its own work keeps the session alive through.
  const longCall = { name: 'trigger-long-running-operation', arguments: { duration: 3, steps: 3 } };

  it('stdio: a 3 s call under a 1 s idle timeout completes, and the session lives on', async () => {
    const { url } = await gateway(['--stdio', EVERYTHING_STDIO, '--spares', '0', '--idle-timeout', '1s']);
    const client = await sdkClient(url);
    expect(text(await client.callTool(longCall, undefined, { timeout: 20_000 }))).toContain('completed');
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'alive' } }))).toContain('alive');
  });

  it('HTTP: a 3 s call under a 1 s idle timeout completes, and the session lives on', async () => {
    const upstream = await everything();
    const { url } = await gateway(['--upstream', upstream.url, '--idle-timeout', '1s']);
    const client = await sdkClient(url);
    expect(text(await client.callTool(longCall, undefined, { timeout: 20_000 }))).toContain('completed');
    expect(text(await client.callTool({ name: 'echo', arguments: { message: 'alive' } }))).toContain('alive');
  });

  it('a client that only listens on its GET stream keeps its session past the idle timeout', async () => {
    const { url } = await gateway(['--stdio', EVERYTHING_STDIO, '--spares', '0', '--idle-timeout', '1s']);
    const sessionId = await openSession(url);
    const headers = { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    const ping = async (id: number): Promise<number> => (await send(url, { headers, body: { jsonrpc: '2.0', id, method: 'ping' } })).status;
    const listening = await openGetStream(url, headers);
    // Three idle timeouts pass with no request: the open stream alone keeps the session.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await ping(9)).toBe(200);
    listening.close();
    // Once it closes, the idle clock runs again: with no request for three idle timeouts, the
    // session has ended (a ping would itself keep it alive, so there is one, at the end).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await ping(10)).toBe(404);
  });
});

describe('sessionless clients through a stdio upstream', () => {
  it('six parallel first calls of one conversation all succeed (internal ids no longer collide)', async () => {
    const { url } = await gateway(['--stdio', EVERYTHING_STDIO, '--spares', '0']);
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'sessionless-test', version: '1.0.0' },
    };
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        send(url, {
          body: { jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'echo', arguments: { message: `m${i}` }, _meta: meta } },
          headers: {
            'mcp-protocol-version': '2026-07-28',
            'mcp-method': 'tools/call',
            'mcp-name': 'echo',
            'mcp-client-session-id': 'one-conversation',
          },
        }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    answers.forEach((answer, i) => expect(answer.text).toContain(`m${i}`));
  });
});

describe('misconfiguration is refused at start-up, with the real reason', () => {
  it('a stdio command that does not exist', async () => {
    const result = await runCli(['--port', '0', '--store', 'memory', '--stdio', 'no-such-binary-sessiongate --flag']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"no-such-binary-sessiongate --flag" could not be started');
    expect(result.stderr).toContain('ENOENT');
  });

  it('a stdio server that exits at once: its exit code and last stderr lines', async () => {
    const script = "console.error('config file missing: /etc/demo.json'); process.exit(3)";
    const result = await runCli(['--port', '0', '--store', 'memory', '--stdio', `${process.execPath} -e "${script}"`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('exited with code 3');
    expect(result.stderr).toContain('config file missing: /etc/demo.json');
  });

  it('a stdio command that never speaks MCP (cat, a script that only waits) is refused, not accepted silently', async () => {
    for (const command of ['cat', `${process.execPath} -e "setInterval(() => {}, 1000)"`]) {
      const result = await runCli(['--port', '0', '--store', 'memory', '--stdio', command, '--probe-timeout', '1s']);
      expect(result.code, command).toBe(1);
      expect(result.stderr, command).toContain('did not answer an initialize within 1 s: is it an MCP server speaking JSON-RPC on stdout?');
    }
  });

  it('a wrong path on a real MCP server is refused with the HTTP status and URL', async () => {
    const upstream = await everything();
    const wrong = upstream.url.replace(/\/mcp$/, '/not-mcp');
    const result = await runCli(['--port', '0', '--store', 'memory', '--upstream', wrong]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`answered an initialize with HTTP 404`);
    expect(result.stderr).toContain(wrong);
  });

  it('/readyz says ready while the upstream answers and 503 with the reason when it stops; /healthz stays 200', async () => {
    const upstream = await everything();
    const { url } = await gateway(['--upstream', upstream.url]);
    const base = url.replace(/\/mcp$/, '');
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    await upstream.kill();
    await expect.poll(async () => (await fetch(`${base}/readyz`)).status, { timeout: 10_000, interval: 500 }).toBe(503);
    const body = (await (await fetch(`${base}/readyz`)).json()) as { problems: string[] };
    expect(body.problems.join()).toContain('connection refused');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});

describe('children of idle sessions', () => {
  const FIXTURE = new URL('./fixtures/stdio-server.mjs', import.meta.url).pathname;

  it('--child-idle-timeout stops an idle child; the session lives on and its next call gets a fresh child', async () => {
    const { url } = await gateway(['--stdio', `${process.execPath} ${FIXTURE}`, '--spares', '0', '--child-idle-timeout', '1s']);
    const client = await sdkClient(url);
    const first = Number(text(await client.callTool({ name: 'whoami' })));
    expect(isAlive(first)).toBe(true);
    await expect.poll(() => isAlive(first), { timeout: 10_000, interval: 200 }).toBe(false);
    const second = Number(text(await client.callTool({ name: 'whoami' })));
    expect(second).not.toBe(first);
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'same session' } }))).toBe('same session');
  });

  it('Inspector CLI and mcp-remote clients never DELETE: their idle children are stopped while the sessions live on', async () => {
    const started = await gatewayProcess(['--stdio', EVERYTHING_STDIO, '--spares', '0', '--child-idle-timeout', '1s']);
    const live = async (): Promise<number> =>
      Number(/^sessiongate_sessions_live (\d+)$/m.exec(await (await fetch(started.url.replace(/\/mcp$/, '/metrics'))).text())?.[1]);
    for (const run of [1, 2]) {
      const printed = await inspectorCli(started.url, [
        '--method',
        'tools/call',
        '--tool-name',
        'echo',
        '--tool-arg',
        `message=run ${run}`,
      ]);
      expect(printed).toContain(`Echo: run ${run}`);
    }
    const remote = await viaMcpRemote(started.url);
    expect(text(await remote.callTool({ name: 'echo', arguments: { message: 'remote' } }))).toContain('remote');
    await remote.close();
    const sessions = await live();
    expect(sessions).toBeGreaterThanOrEqual(3);
    // Every child idles out (there were at least three); no session ended.
    await expect.poll(() => childrenOf(started.pid).length, { timeout: 15_000, interval: 200 }).toBe(0);
    expect(await live()).toBe(sessions);
    expect(await inspectorCli(started.url, ['--method', 'tools/list'])).toContain('"echo"');
    // Five peer processes and children idling out: more than the default 30 s on a loaded machine (it timed out once in CI).
  }, 90_000);

  it('stdio sessions are capped by default, sized to the machine, and the cap is in the start-up summary', async () => {
    const { defaultStdioSessionCap } = await import('../src/cli/gateway/gateway-command.js');
    const started = await gateway(['--stdio', `${process.execPath} ${FIXTURE}`, '--spares', '0']);
    expect(started.output()).toContain(`max ${defaultStdioSessionCap()} sessions`);
    expect(defaultStdioSessionCap(1024 ** 3)).toBe(8);
    expect(defaultStdioSessionCap(24 * 1024 ** 3)).toBe(192);
  });
});
