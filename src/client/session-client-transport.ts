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
import type { SessionClientOptions } from './options.js';
import { SessionFront } from './session-front.js';

export class SessionClientTransport extends SessionFront implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  #started = false;

  constructor(url: string | URL, options: SessionClientOptions = {}) {
    super(
      url,
      options,
      options.openStream !== false,
      (message) => this.onmessage?.(message as JSONRPCMessage),
      (error) => this.onerror?.(error),
    );
  }

  setProtocolVersion(version: string): void {
    this.core.protocolVersion = version;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('SessionClientTransport already started');
    this.#started = true;
  }

  async send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    if (this.closed) throw new SessionClientError('SG_CLIENT_CLOSED');
    const outbound = message as JsonRpcMessage;
    try {
      await this.core.exchange(outbound, (inbound) => this.onmessage?.(inbound as JSONRPCMessage));
    } catch (error) {
      this.onerror?.(error as Error);
      throw error;
    }
    if ('method' in outbound && outbound.method === 'notifications/initialized') this.openStream();
  }

  /** Ends the session on the server (DELETE), keeps the transport usable for a new one. */
  async terminateSession(): Promise<void> {
    await this.end();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.end();
    this.onclose?.();
  }
}
