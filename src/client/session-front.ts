/**
 * @module client/session-front
 * What both client front-ends (the SDK transport and the standalone client) share: the session
 * core, the GET stream that follows the session across recoveries, and the read-only facts.
 */
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { GetStream } from './get-stream.js';
import type { SessionClientOptions } from './options.js';
import { SessionCore } from './session-core.js';

export abstract class SessionFront {
  protected readonly core: SessionCore;
  protected readonly stream: GetStream;
  protected closed = false;
  readonly #openStream: boolean;
  /** Whether the GET stream is wanted now (it follows the session across recoveries only then). */
  #listening = false;

  constructor(
    url: string | URL,
    options: SessionClientOptions,
    openStream: boolean,
    deliver: (message: JsonRpcMessage) => void,
    onError: (error: Error) => void,
  ) {
    this.core = new SessionCore(url, options);
    this.#openStream = openStream;
    this.stream = new GetStream(this.core, deliver, onError);
    // After a transparent re-initialize, the GET stream follows the new session.
    this.core.onSessionReplaced = () => {
      if (this.#listening) this.openStream();
    };
  }

  /** The current session id (C7: a secret; do not log it). Undefined for a stateless server. */
  get sessionId(): string | undefined {
    return this.core.sessionId;
  }

  get protocolVersion(): string | undefined {
    return this.core.protocolVersion;
  }

  /** The correlation id sent on every request (SEP-2822 draft). */
  get clientSessionId(): string | undefined {
    return this.core.clientSessionId;
  }

  /** How many times the session was transparently re-established. */
  get recoveries(): number {
    return this.core.recoveries;
  }

  /**
   * After the user authorized this client (the `authProvider`'s redirect): exchanges the code
   * for tokens, as the SDK transport's `finishAuth` does; then connect again.
   */
  finishAuth(authorizationCode: string): Promise<void> {
    return this.core.finishAuth(authorizationCode);
  }

  protected openStream(): void {
    if (!this.#openStream || this.closed) return;
    this.#listening = true;
    this.stream.open();
  }

  protected closeStream(): void {
    this.#listening = false;
    this.stream.close();
  }

  /** C5: stop the GET stream and DELETE the session (bounded). */
  protected async end(): Promise<void> {
    this.closeStream();
    await this.core.terminate();
  }
}
