/**
 * @module gateway/federation/server-probe
 * What a federated server says of itself when asked on its own (an initialize of the gateway's,
 * its session ended at once): the capabilities and instructions the federation merges into
 * the downstream initialize, and the health check of a server that went down
 * (docs/FEDERATION.md, "Failure isolation").
 */
import type { Dispatcher } from 'undici';
import { SessionClient } from '../../client/session-client.js';
import { SessionClientError } from '../../client/errors.js';
import { internalRequestId } from '../../protocol/internal-ids.js';
import { isObject, type JsonObject, type JsonRpcMessage } from '../../protocol/jsonrpc.js';
import { LATEST_HANDSHAKE_REVISION } from '../../protocol/revisions.js';
import { StdioChild, type StdioCommand } from '../upstreams/stdio/stdio-child.js';

/** A server's InitializeResult; rejects with the reason it could not be had. */
export type ServerProbe = () => Promise<JsonObject>;

const CLIENT_INFO = { name: 'sessiongate-federation-probe', version: '0' };
/** How long a probe waits for an initialize answer by default (`--probe-timeout`). */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

/** A server that has not answered yet: slow, perhaps, not known to be down. */
export class ProbeTimeout extends Error {
  override readonly name = 'ProbeTimeout';
  constructor(readonly ms: number) {
    super(`no answer within ${ms / 1000} s`);
  }
}

/**
 * Probes an HTTP server: initialize, then DELETE of the session it made. With `tokenRequired`
 * (a server that acts with each person's own token: the probe has none), a 401 with a Bearer
 * challenge counts as an answer that says nothing of its capabilities.
 */
export function httpProbe(
  url: string | URL,
  headers: Record<string, string> = {},
  dispatcher?: Dispatcher,
  timeoutMs = DEFAULT_PROBE_TIMEOUT_MS,
  tokenRequired = false,
): ServerProbe {
  return async () => {
    const client = new SessionClient(url, { headers, openStream: false, ...(dispatcher ? { dispatcher } : {}) });
    const timer = deadline(timeoutMs);
    try {
      return await Promise.race([client.connect({ clientInfo: CLIENT_INFO }), timer.passed]);
    } catch (error) {
      if (tokenRequired && asksForToken(error)) return {};
      throw error;
    } finally {
      timer.clear();
      await client.close().catch(() => {});
    }
  };
}

/**
 * Probes a stdio server: one process started, asked to initialize, stopped. A command that
 * never speaks MCP (`cat`, a shell) is found here: it answers nothing, or not JSON-RPC.
 * `onStderr` hears the child's stderr lines (for the reason a start-up check gives).
 */
export function stdioProbe(
  command: StdioCommand,
  timeoutMs = DEFAULT_PROBE_TIMEOUT_MS,
  onStderr: (line: string) => void = () => {},
): ServerProbe {
  return async () => {
    const child = new StdioChild(command);
    const id = internalRequestId('federation-probe');
    const timer = deadline(timeoutMs);
    try {
      const answer = new Promise<JsonObject>((resolve, reject) => {
        child.bind({
          onMessage: (message: JsonRpcMessage) => {
            if (!('id' in message) || message.id !== id || 'method' in message) return;
            if ('result' in message && isObject(message.result)) resolve(message.result);
            else reject(new Error('it refused the initialize'));
          },
          onExit: () => reject(new Error(`it ${child.exitReason ?? 'exited'}`)),
          onStderr,
        });
      });
      const params = { protocolVersion: LATEST_HANDSHAKE_REVISION, capabilities: {}, clientInfo: CLIENT_INFO };
      child.send({ jsonrpc: '2.0', id, method: 'initialize', params });
      return await Promise.race([answer, timer.passed]);
    } finally {
      timer.clear();
      await child.stop(1000);
    }
  };
}

/** A 401 whose challenge asks for a Bearer token: a resource server, there and answering. */
function asksForToken(error: unknown): boolean {
  return error instanceof SessionClientError && error.status === 401 && /^bearer\b/i.test(error.challenge ?? '');
}

/** A promise that rejects with ProbeTimeout after `ms`, and the way to call it off. */
function deadline(ms: number): { passed: Promise<never>; clear(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const passed = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new ProbeTimeout(ms)), ms)));
  passed.catch(() => {}); // raced; never left unhandled
  return { passed, clear: () => clearTimeout(timer) };
}
