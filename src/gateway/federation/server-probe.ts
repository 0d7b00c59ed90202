/**
 * @module gateway/federation/server-probe
 * What a federated server says of itself when asked on its own (an initialize of the gateway's,
 * its session ended at once): the capabilities and instructions the federation merges into
 * the downstream initialize, and the health check of a server that went down
 * (docs/FEDERATION.md, "Failure isolation").
 */
import type { Dispatcher } from 'undici';
import { SessionClient } from '../../client/session-client.js';
import { internalRequestId } from '../../protocol/internal-ids.js';
import { isObject, type JsonObject, type JsonRpcMessage } from '../../protocol/jsonrpc.js';
import { LATEST_HANDSHAKE_REVISION } from '../../protocol/revisions.js';
import { StdioChild, type StdioCommand } from '../upstreams/stdio/stdio-child.js';

/** A server's InitializeResult; rejects with the reason it could not be had. */
export type ServerProbe = () => Promise<JsonObject>;

const CLIENT_INFO = { name: 'sessiongate-federation-probe', version: '0' };
const PROBE_TIMEOUT_MS = 5000;

/** Probes an HTTP server: initialize, then DELETE of the session it made. */
export function httpProbe(url: string | URL, headers: Record<string, string> = {}, dispatcher?: Dispatcher): ServerProbe {
  return async () => {
    const client = new SessionClient(url, { headers, openStream: false, ...(dispatcher ? { dispatcher } : {}) });
    const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    try {
      return await Promise.race([client.connect({ clientInfo: CLIENT_INFO }), aborted(timeout)]);
    } finally {
      await client.close().catch(() => {});
    }
  };
}

/** Probes a stdio server: one process started, asked to initialize, stopped. */
export function stdioProbe(command: StdioCommand): ServerProbe {
  return async () => {
    const child = new StdioChild(command);
    const id = internalRequestId('federation-probe');
    try {
      const answer = new Promise<JsonObject>((resolve, reject) => {
        child.bind({
          onMessage: (message: JsonRpcMessage) => {
            if (!('id' in message) || message.id !== id || 'method' in message) return;
            if ('result' in message && isObject(message.result)) resolve(message.result);
            else reject(new Error('it refused the initialize'));
          },
          onExit: () => reject(new Error(`it ${child.exitReason ?? 'exited'}`)),
          onStderr: () => {},
        });
      });
      const params = { protocolVersion: LATEST_HANDSHAKE_REVISION, capabilities: {}, clientInfo: CLIENT_INFO };
      child.send({ jsonrpc: '2.0', id, method: 'initialize', params });
      return await Promise.race([answer, aborted(AbortSignal.timeout(PROBE_TIMEOUT_MS))]);
    } finally {
      await child.stop(1000);
    }
  };
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('no answer in time')), { once: true }));
}
