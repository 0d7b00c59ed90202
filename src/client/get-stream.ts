/**
 * @module client/get-stream
 * The session's GET stream (S6, C6): server-initiated notifications and requests. Opened after
 * initialize when the server offers one (405: it does not, and we stop asking), resumed with
 * Last-Event-ID after a drop, honouring the server's `retry`, backing off on failures (and on
 * 409, another stream of the session still open), and reopened on the new session after a
 * recovery.
 */
import { isWellFormedMessage, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import { pause, reconnectDelay } from '../protocol/reconnect.js';
import { send } from './http.js';
import type { SessionCore } from './session-core.js';
import { SseParser } from './sse-parser.js';

export class GetStream {
  readonly #core: SessionCore;
  readonly #deliver: (message: JsonRpcMessage) => void;
  readonly #onError: (error: Error) => void;
  #abort: AbortController | undefined;
  #lastEventId: string | undefined;
  #retryMs = 1000;
  #unsupported = false;

  constructor(core: SessionCore, deliver: (message: JsonRpcMessage) => void, onError: (error: Error) => void) {
    this.#core = core;
    this.#deliver = deliver;
    this.#onError = onError;
  }

  /** Starts (or restarts, for a new session) the stream; returns at once. */
  open(): void {
    if (this.#unsupported || this.#core.sessionId === undefined) return;
    this.close();
    this.#lastEventId = undefined; // event ids belong to the old session's streams
    const abort = (this.#abort = new AbortController());
    this.#loop(abort.signal).catch((error: unknown) => this.#onError(error as Error));
  }

  close(): void {
    this.#abort?.abort();
    this.#abort = undefined;
  }

  async #loop(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted && this.#core.sessionId !== undefined) {
      try {
        const headers: Record<string, string> = { ...(await this.#core.headers()), accept: 'text/event-stream' };
        if (this.#lastEventId !== undefined) headers['last-event-id'] = this.#lastEventId;
        const answer = await send(this.#core.url, 'GET', headers, { signal, dispatcher: this.#core.dispatcher, longLived: true });
        if (answer.status === 409) {
          // Another stream of this session is still open, most likely one being replaced (a
          // gateway replica handing the stream over): ask again after a back-off.
          await answer.body.dump();
          failures++;
          await pause(reconnectDelay(this.#retryMs, failures - 1), signal);
          continue;
        }
        if (answer.status !== 200) {
          await answer.body.dump();
          // 405: the server offers no GET stream. 404/others: leave it; requests will recover.
          if (answer.status === 405) this.#unsupported = true;
          return;
        }
        failures = 0;
        const parser = new SseParser({
          onEvent: (event) => {
            if (event.id !== undefined) this.#lastEventId = event.id;
            if (event.event !== 'message' || event.data === '') return;
            try {
              const message = JSON.parse(event.data) as unknown;
              if (isWellFormedMessage(message)) this.#deliver(message);
            } catch {
              // skip a malformed event
            }
          },
          onRetry: (ms) => (this.#retryMs = ms),
        });
        for await (const chunk of answer.body) parser.push(chunk);
      } catch {
        if (signal.aborted) return;
        failures++;
      }
      await pause(reconnectDelay(this.#retryMs, failures), signal);
    }
  }
}
