/**
 * @module client/stdio-bridge
 * A stdio front door to a remote MCP server (docs/CONNECT.md, "A stdio front door"): a desktop
 * client that can only launch a local command speaks newline-delimited JSON-RPC on this
 * process's stdin and stdout, and every message goes to the server through a
 * `SessionClientTransport`: the session re-established on 404 without the desktop client
 * noticing, a correlation id on every request, the SDK's OAuth provider when one is given.
 * What `sessiongate connect URL` runs, in place of `mcp-remote`.
 *
 * Logs go to `log` (the command writes them to stderr), never to stdout, which carries only
 * the protocol. A request the server cannot be reached for is answered with a JSON-RPC error,
 * never left waiting.
 */
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { JSONRPC } from '../protocol/failures.js';
import { isObject, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { SessionClientOptions } from './options.js';
import { SessionClientTransport } from './session-client-transport.js';

export interface StdioBridgeOptions extends SessionClientOptions {
  /** Where the desktop client's messages come from. Default: process.stdin. */
  input?: Readable;
  /** Where the server's messages go. Default: process.stdout. */
  output?: Writable;
  /** A line for the person running it (recoveries, failures). Default: nothing. */
  log?: (line: string) => void;
}

export interface StdioBridge {
  /** Settles when the bridge has closed (its input ended, or `close` was called) and the session ended. */
  readonly closed: Promise<void>;
  /** Ends the remote session (DELETE) and stops reading. */
  close(): Promise<void>;
}

/** Starts bridging `input`/`output` to the MCP endpoint at `url`. */
export async function bridgeStdio(url: string | URL, options: StdioBridgeOptions = {}): Promise<StdioBridge> {
  const { input = process.stdin, output = process.stdout, log = () => {}, ...clientOptions } = options;
  const local = new StdioServerTransport(input, output);
  const remote = new SessionClientTransport(url, {
    ...clientOptions,
    onRecovered: (event) => {
      log(`the server forgot the session; a new one was opened and the call retried (${event.recoveries} so far)`);
      clientOptions.onRecovered?.(event);
    },
  });
  const initializeIds = new Set<unknown>();
  let handshake: Promise<unknown> = Promise.resolve();
  let closing: Promise<void> | undefined;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));

  remote.onmessage = (message) => {
    const inbound = message as JsonRpcMessage;
    // The negotiated revision goes on every later request's header, as the SDK Client would set it.
    if ('id' in inbound && initializeIds.delete(inbound.id) && 'result' in inbound && isObject(inbound.result)) {
      const version = inbound.result['protocolVersion'];
      if (typeof version === 'string') remote.setProtocolVersion(version);
    }
    void local.send(message).catch((error: Error) => log(`could not write to stdout: ${error.message}`));
  };
  remote.onerror = (error) => log(error.message);
  local.onerror = (error) => log(`a line on stdin is not a JSON-RPC message: ${error.message}`);
  local.onmessage = (message) => {
    const outbound = message as JsonRpcMessage;
    const request = 'method' in outbound && 'id' in outbound ? outbound : undefined;
    // Everything after an initialize waits for its answer (the session id it brings); after that, calls go at once, side by side.
    const sent = handshake.then(() => remote.send(message));
    if (request?.method === 'initialize') {
      initializeIds.add(request.id);
      handshake = sent.catch(() => {});
    }
    sent.catch((error: Error) => {
      if (!request) return;
      initializeIds.delete(request.id);
      const answer = { jsonrpc: '2.0', id: request.id, error: { code: JSONRPC.INTERNAL_ERROR, message: error.message } };
      void local.send(answer as JSONRPCMessage).catch(() => {});
    });
  };

  const close = (): Promise<void> =>
    (closing ??= (async () => {
      input.off('end', onEnd);
      await remote.close().catch((error: Error) => log(`could not end the session: ${error.message}`));
      await local.close();
      markClosed();
    })());
  const onEnd = (): void => void close();
  input.once('end', onEnd);
  await remote.start();
  await local.start();
  return { closed, close };
}
