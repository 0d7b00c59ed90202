/**
 * @module client/sse-parser
 * A streaming parser for text/event-stream (WHATWG HTML, "server-sent events"): fields `data`,
 * `event`, `id`, `retry`; comments ignored; CR, LF and CRLF line ends; an event dispatched on a
 * blank line; a trailing partial event discarded when the stream ends (truncated streams never
 * yield half an event).
 */

export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
}

export interface SseSink {
  onEvent(event: SseEvent): void;
  /** The server's reconnection delay (`retry:`), in ms. */
  onRetry?(ms: number): void;
}

export class SseParser {
  readonly #decoder = new TextDecoder();
  readonly #sink: SseSink;
  #buffer = '';
  #data: string[] = [];
  #event = '';
  #id: string | undefined;
  #sawCr = false;

  constructor(sink: SseSink) {
    this.#sink = sink;
  }

  push(chunk: Uint8Array): void {
    let text = this.#decoder.decode(chunk, { stream: true });
    // A CRLF split across chunks: drop the LF that completes a CR already handled.
    if (this.#sawCr && text.startsWith('\n')) text = text.slice(1);
    this.#sawCr = text.endsWith('\r');
    this.#buffer += text;
    let start = 0;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer.slice(start));
      if (!match) break;
      this.#line(this.#buffer.slice(start, start + match.index));
      start += match.index + match[0].length;
    }
    this.#buffer = this.#buffer.slice(start);
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0) this.#sink.onEvent({ event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id });
      this.#data = [];
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
        this.#data.push(value);
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
