/**
 * @module client/sse-parser
 * A streaming parser for text/event-stream (WHATWG HTML, "server-sent events"): fields `data`,
 * `event`, `id`, `retry`; comments ignored; CR, LF and CRLF line ends; an event dispatched on a
 * blank line; a trailing partial event discarded when the stream ends (truncated streams never
 * yield half an event). Linear in the input however it is cut (protocol/line-splitter.ts); an
 * event whose data passes `maxEventLength` characters is not kept: `onTooLong` is told.
 */
import { LineSplitter } from '../protocol/line-splitter.js';

export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
}

export interface SseSink {
  onEvent(event: SseEvent): void;
  /** The server's reconnection delay (`retry:`), in ms. */
  onRetry?(ms: number): void;
  /** An event (or one of its lines) passed `maxEventLength`; it is dropped. */
  onTooLong?(length: number): void;
}

/** Default `maxEventLength`: 16 Mi characters, as `--max-message-size` (docs/limits.md). */
export const DEFAULT_MAX_EVENT_LENGTH = 16 * 1024 * 1024;

export class SseParser {
  readonly #decoder = new TextDecoder();
  readonly #sink: SseSink;
  readonly #lines: LineSplitter;
  readonly #maxEventLength: number;
  #data: string[] = [];
  #dataLength = 0;
  #tooLong = false;
  #event = '';
  #id: string | undefined;

  constructor(sink: SseSink, options: { maxEventLength?: number } = {}) {
    this.#sink = sink;
    this.#maxEventLength = options.maxEventLength ?? DEFAULT_MAX_EVENT_LENGTH;
    this.#lines = new LineSplitter(
      { onLine: (line) => this.#line(line), onTooLong: (length) => this.#overflow(length) },
      { maxLength: this.#maxEventLength, anyLineEnd: true },
    );
  }

  push(chunk: Uint8Array): void {
    this.#lines.push(this.#decoder.decode(chunk, { stream: true }));
  }

  #overflow(length: number): void {
    if (!this.#tooLong) this.#sink.onTooLong?.(length);
    this.#tooLong = true;
    this.#data = [];
    this.#dataLength = 0;
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0 && !this.#tooLong)
        this.#sink.onEvent({ event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id });
      this.#data = [];
      this.#dataLength = 0;
      this.#tooLong = false;
      this.#event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        if (this.#tooLong) break;
        this.#dataLength += value.length + 1;
        if (this.#dataLength > this.#maxEventLength) this.#overflow(this.#dataLength);
        else this.#data.push(value);
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#sink.onRetry?.(Number(value));
        break;
    }
  }
}
