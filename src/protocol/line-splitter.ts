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

/**
 * The pieces of the line being read, kept until it ends; past `maxLength` dropped, reported
 * once, and the rest of that line skipped. `join` makes the line from its pieces.
 */
class PendingLine<Piece extends { readonly length: number }> {
  readonly #sink: LineSink;
  readonly #maxLength: number;
  readonly #join: (pieces: Piece[]) => string;
  #pieces: Piece[] = [];
  #length = 0;
  #skipping = false;

  constructor(sink: LineSink, maxLength: number, join: (pieces: Piece[]) => string) {
    this.#sink = sink;
    this.#maxLength = maxLength;
    this.#join = join;
  }

  /** A piece of the line, more to come. */
  keep(piece: Piece): void {
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

  /** The last piece: the line is complete. */
  finish(last: Piece): void {
    this.keep(last);
    if (this.#skipping) {
      this.#skipping = false;
      return;
    }
    const line = this.#join(this.#pieces);
    this.#pieces = [];
    this.#length = 0;
    this.#sink.onLine(line);
  }
}

export class LineSplitter {
  readonly #line: PendingLine<string>;
  readonly #anyLineEnd: boolean;
  #afterCr = false;

  constructor(sink: LineSink, options: { maxLength: number; anyLineEnd?: boolean }) {
    this.#line = new PendingLine<string>(sink, options.maxLength, (pieces) => (pieces.length === 1 ? pieces[0]! : pieces.join('')));
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
      this.#line.finish(text.slice(start, end));
      start = end + 1;
      if (end === nextCr) {
        if (start === text.length) this.#afterCr = true;
        else if (text.charCodeAt(start) === 10) start++;
      }
    }
    if (start < text.length) this.#line.keep(text.slice(start));
  }
}

/**
 * LF-separated lines of a byte stream (a child's stdout), decoded as UTF-8 only when kept: a
 * line past `maxLength` bytes is skipped without ever being decoded.
 */
export class ByteLineSplitter {
  readonly #line: PendingLine<Buffer>;

  constructor(sink: LineSink, options: { maxLength: number }) {
    this.#line = new PendingLine<Buffer>(sink, options.maxLength, (pieces) =>
      (pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces)).toString('utf8'),
    );
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(10, start); end !== -1; end = chunk.indexOf(10, start)) {
      this.#line.finish(chunk.subarray(start, end));
      start = end + 1;
    }
    if (start < chunk.length) this.#line.keep(chunk.subarray(start));
  }
}
