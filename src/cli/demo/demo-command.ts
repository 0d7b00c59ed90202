/**
 * @module cli/demo/demo-command
 * `sessiongate demo`: the demo MCP server behind the session server.
 */
import { Command } from 'commander';
import { createSessionServer } from '../../server/session-server.js';
import { addSessionFlags, sessionFlags } from '../session-flags.js';
import { listen, onShutdownSignal } from '../serve.js';
import { describeStore, openStore } from '../store-spec.js';
import { bindMcpServer } from '../../server/sdk/sdk-binding.js';
import { createDemoServer } from './demo-server.js';
import { VERSION } from '../version.js';

export function demoCommand(): Command {
  const command = new Command('demo').description('serve a demo MCP server (tools echo, whoami, slow) behind Sessiongate sessions');
  addSessionFlags(command, { store: 'memory' });
  return command.action(async (values: Record<string, unknown>) => {
    const flags = sessionFlags(values);
    const store = await openStore(flags.store);
    const server = createSessionServer({
      application: bindMcpServer((session) => createDemoServer({ name: 'sessiongate-demo', version: VERSION }, session), {
        onError: (error) => process.stderr.write(`sessiongate: ${(error as Error).message}\n`),
      }),
      store,
      idleTimeoutMs: flags.idleTimeoutMs,
      maxLifetimeMs: flags.maxLifetimeMs,
      maxSessions: flags.maxSessions,
      maxSessionsPerPrincipal: flags.maxSessionsPerPrincipal,
      allowedOrigins: flags.allowedOrigins,
      allowedHosts: flags.allowedHosts,
      maxBodyBytes: flags.maxBodyBytes,
      // The principal is a keyed hash of the Authorization header when one is sent.
      authenticate: (request) => request.header('authorization'),
      onError: (error) => process.stderr.write(`sessiongate: ${(error as Error).message}\n`),
    });
    const listening = await listen(server, flags.port, flags.host);
    onShutdownSignal(async () => {
      await listening.close();
      await server.close();
      await store.close();
    });
    const caps = [
      flags.maxSessions && `max ${flags.maxSessions} sessions`,
      flags.maxSessionsPerPrincipal && `max ${flags.maxSessionsPerPrincipal} per principal`,
    ].filter(Boolean);
    process.stdout.write(
      [
        `sessiongate demo listening on ${listening.url}`,
        `  store: ${describeStore(flags.store)}`,
        `  sessions: idle timeout ${flags.idleTimeoutMs} ms, lifetime ${flags.maxLifetimeMs} ms${caps.length ? ', ' + caps.join(', ') : ''}`,
        `  health: ${listening.url.replace(/\/mcp$/, '/healthz')}`,
        '',
      ].join('\n'),
    );
  });
}
