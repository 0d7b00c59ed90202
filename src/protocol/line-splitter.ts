/**
 * @module protocol/line-splitter
 * Text arriving in chunks, cut into lines in linear time: each chunk is scanned once, and a
 * line longer than a chunk is kept as pieces joined once when it ends (concatenating and
 * re-scanning the whole buffer per chunk took 15.7 s for one 50 MB line; docs/limits.md,
 * "Messages"). A line longer than `maxLength` is not kept: `onTooLong` is told once, and the
 * rest of that line is skipped.
 *
 * Line ends: LF, or (with `anyLineEnd`, for SSE) LF, CR and CRLF, a CRLF split across chunks
 * included.
 */
export interface LineSink {
  onLine(line: string): void;
  /** A line passed `maxLength` characters; what follows of it is skipped. */
  onTooLong(length: number): void;
}

export class LineSplitter {
  readonly #sink: LineSink;
  readonly #maxLength: number;
  readonly #anyLineEnd: boolean;
  #pieces: string[] = [];
  #length = 0;
  #skipping = false;
  #afterCr = false;

  constructor(sink: LineSink, options: { maxLength: number; anyLineEnd?: boolean }) {
    this.#sink = sink;
    this.#maxLength = options.maxLength;
    this.#anyLineEnd = options.anyLineEnd ?? false;
  }

  push(text: string): void {
    let start = 0;
    // The LF of a CRLF whose CR ended the previous chunk.
    if (this.#afterCr && text.startsWith('\n')) start = 1;
    this.#afterCr = false;
    // Next positions of each line end, each searched again only once passed: one scan per chunk.
    let nextLf = text.indexOf('\n', start);
    let nextCr = this.#anyLineEnd ? text.indexOf('\r', start) : -1;
    for (;;) {
      if (nextLf !== -1 && nextLf < start) nextLf = text.indexOf('\n', start);
      if (nextCr !== -1 && nextCr < start) nextCr = text.indexOf('\r', start);
      const end = nextCr === -1 ? nextLf : nextLf === -1 ? nextCr : Math.min(nextLf, nextCr);
      if (end === -1) break;
      this.#finish(text.slice(start, end));
      start = end + 1;
      if (end === nextCr) {
        if (start === text.length) this.#afterCr = true;
        else if (text.charCodeAt(start) === 10) start++;
      }
    }
    if (start < text.length) this.#keep(text.slice(start));
  }

  #keep(piece: string): void {
    if (this.#skipping) return;
    this.#length += piece.length;
    if (this.#length > this.#maxLength) {
      this.#sink.onTooLong(this.#length);
      this.#pieces = [];
      this.#length = 0;
      this.#skipping = true;
      return;
    }
    this.#pieces.push(piece);
  }

  #finish(last: string): void {
    if (this.#skipping) {
      this.#skipping = false;
      return;
    }
    if (this.#pieces.length === 0) {
      if (last.length > this.#maxLength) return this.#sink.onTooLong(last.length);
      return this.#sink.onLine(last);
    }
    this.#keep(last);
    if (this.#skipping) {
      this.#skipping = false;
      return;
    }
    const line = this.#pieces.join('');
    this.#pieces = [];
    this.#length = 0;
    this.#sink.onLine(line);
  }
}

/**
 * LF-separated lines of a byte stream (a child's stdout), decoded as UTF-8 only when kept: a
 * line past `maxLength` bytes is skipped without ever being decoded.
 */
export class ByteLineSplitter {
  readonly #sink: LineSink;
  readonly #maxLength: number;
  #pieces: Buffer[] = [];
  #length = 0;
  #skipping = false;

  constructor(sink: LineSink, options: { maxLength: number }) {
    this.#sink = sink;
    this.#maxLength = options.maxLength;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(10, start); end !== -1; end = chunk.indexOf(10, start)) {
      this.#finish(chunk.subarray(start, end));
      start = end + 1;
    }
    if (start < chunk.length) this.#keep(chunk.subarray(start));
  }

  #keep(piece: Buffer): void {
    if (this.#skipping) return;
    this.#length += piece.length;
    if (this.#length > this.#maxLength) {
      this.#sink.onTooLong(this.#length);
      this.#pieces = [];
      this.#length = 0;
      this.#skipping = true;
      return;
    }
    this.#pieces.push(piece);
  }

  #finish(last: Buffer): void {
    if (!this.#skipping) this.#keep(last);
    if (this.#skipping) {
      this.#skipping = false;
      return;
    }
    const line = this.#pieces.length === 1 ? this.#pieces[0]!.toString('utf8') : Buffer.concat(this.#pieces).toString('utf8');
    this.#pieces = [];
    this.#length = 0;
    this.#sink.onLine(line);
  }
}
