/**
 * @module client/session-client-transport
 * A drop-in `Transport` for the official SDK `Client`: keep `new Client(...)`, swap the
 * transport in. The session survives server restarts and expiries without the Client noticing
 * (C4), and `close()` ends it with DELETE (C5).
 *
 * @example
 * const transport = new SessionClientTransport('http://127.0.0.1:8080/mcp');
 * await new Client({ name: 'host', version: '1.0.0' }).connect(transport);
 */
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { SessionClientError } from './errors.js';
import { GetStream } from './get-stream.js';
import type { SessionClientOptions } from './options.js';
import { SessionCore } from './session-core.js';

export class SessionClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  readonly #core: SessionCore;
  readonly #stream: GetStream;
  readonly #openStream: boolean;
  #started = false;
  #closed = false;

  constructor(url: string | URL, options: SessionClientOptions = {}) {
    this.#core = new SessionCore(url, options);
    this.#openStream = options.openStream !== false;
    const deliver = (message: JsonRpcMessage): void => this.onmessage?.(message as JSONRPCMessage);
    this.#stream = new GetStream(this.#core, deliver, (error) => this.onerror?.(error));
    // After a transparent re-initialize, the GET stream follows the new session.
    this.#core.onSessionReplaced = () => {
      if (this.#openStream && !this.#closed) this.#stream.open();
    };
  }

  /** The current session id (C7: a secret; do not log it). Undefined for a stateless server. */
  get sessionId(): string | undefined {
    return this.#core.sessionId;
  }

  get protocolVersion(): string | undefined {
    return this.#core.protocolVersion;
  }

  /** The correlation id sent on every request (SEP-2822 draft). */
  get clientSessionId(): string | undefined {
    return this.#core.clientSessionId;
  }

  /** How many times the session was transparently re-established. */
  get recoveries(): number {
    return this.#core.recoveries;
  }

  setProtocolVersion(version: string): void {
    this.#core.protocolVersion = version;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('SessionClientTransport already started');
    this.#started = true;
  }

  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    if (this.#closed) throw new SessionClientError('SG_CLIENT_CLOSED');
    const outbound = message as JsonRpcMessage;
    try {
      await this.#core.exchange(outbound, (inbound) => this.onmessage?.(inbound as JSONRPCMessage));
    } catch (error) {
      this.onerror?.(error as Error);
      throw error;
    }
    if (this.#openStream && 'method' in outbound && outbound.method === 'notifications/initialized') this.#stream.open();
  }

  /** Ends the session on the server (DELETE), keeps the transport usable for a new one. */
  async terminateSession(): Promise<void> {
    this.#stream.close();
    await this.#core.terminate();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.close();
    await this.#core.terminate();
    this.onclose?.();
  }
}
