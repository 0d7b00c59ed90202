/**
 * @module gateway/upstreams/sse/sse-channel
 * One session's connection to a server of the deprecated HTTP+SSE transport (protocol
 * 2024-11-05): a GET opens an event stream whose first
 * event, `endpoint`, names where to POST; every message the gateway sends is POSTed there (in
 * order, one at a time: the transport has no other ordering), and every message of the server
 * arrives as a `message` event on the stream. The stream ending ends the channel; the link
 * opens a new one and replays the handshake (channel-link.ts).
 *
 * The endpoint must be on the stream's own origin: the gateway's headers (an upstream token)
 * never go to a host the server names.
 */
import { connectionProblem, send as httpSend } from '../../../client/http.js';
import { SseParser } from '../../../client/sse-parser.js';
import { isWellFormedMessage, type JsonRpcMessage } from '../../../protocol/jsonrpc.js';
import type { ChannelEvents, MessageChannel } from '../message-channel.js';
import { upstreamFailure } from '../upstream-failure.js';

export interface SseChannelOptions {
  /** Sent on the GET and on every POST (static upstream headers). */
  headers: Record<string, string>;
  /** The largest event accepted, in characters; past it the channel ends. */
  maxMessageLength: number;
  /** How long the stream has to name its endpoint, ms. */
  openTimeoutMs: number;
}

export class SseChannel implements MessageChannel {
  readonly #stream = new AbortController();
  readonly #options: SseChannelOptions;
  #endpoint: URL | undefined;
  #events: ChannelEvents | undefined;
  #alive = true;
  #endedWhy = "the upstream's event stream closed";
  /** POSTs in order, one at a time. */
  #posting: Promise<void> = Promise.resolve();
  #paused: { promise: Promise<void>; resume: () => void } | undefined;

  private constructor(options: SseChannelOptions) {
    this.#options = options;
  }

  /** Opens the stream and waits for its `endpoint` event; throws why it could not. */
  static async open(url: URL, options: SseChannelOptions): Promise<SseChannel> {
    const channel = new SseChannel(options);
    await channel.#connect(url);
    return channel;
  }

  get alive(): boolean {
    return this.#alive;
  }

  get endedWhy(): string {
    return this.#endedWhy;
  }

  bind(events: ChannelEvents): void {
    this.#events = events;
    if (!this.#alive) events.onExit();
  }

  send(message: JsonRpcMessage): boolean {
    if (!this.#alive) return false;
    this.#posting = this.#posting.then(() => this.#post(message));
    return true;
  }

  pauseOutput(): void {
    if (this.#paused) return;
    let resume!: () => void;
    const promise = new Promise<void>((resolve) => (resume = resolve));
    this.#paused = { promise, resume };
  }

  resumeOutput(): void {
    const paused = this.#paused;
    this.#paused = undefined;
    paused?.resume();
  }

  async stop(): Promise<void> {
    this.#end("the upstream's event stream was closed by the gateway");
    await this.#posting;
  }

  async #connect(url: URL): Promise<void> {
    let named!: (endpoint: URL) => void;
    let failed!: (error: Error) => void;
    const endpoint = new Promise<URL>((resolve, reject) => ((named = resolve), (failed = reject)));
    const timer = setTimeout(
      () => failed(new Error(`the upstream's event stream named no endpoint within ${this.#options.openTimeoutMs / 1000} s`)),
      this.#options.openTimeoutMs,
    );
    const parser = new SseParser(
      {
        onEvent: ({ event, data }) => {
          if (event === 'endpoint' && this.#endpoint === undefined) {
            const target = new URL(data.trim(), url);
            if (target.origin !== url.origin)
              return failed(new Error(`the upstream named an endpoint on another origin (${target.origin})`));
            this.#endpoint = target;
            return named(target);
          }
          if (event === '' || event === 'message') this.#read(data);
        },
        onTooLong: (length) => this.#end(`the upstream sent a message of ${length} characters, over the limit`),
      },
      { maxEventLength: this.#options.maxMessageLength },
    );
    try {
      const answer = await httpSend(
        url,
        'GET',
        { ...this.#options.headers, accept: 'text/event-stream' },
        {
          signal: this.#stream.signal,
          longLived: true,
        },
      );
      if (answer.status !== 200 || !(answer.header('content-type') ?? '').startsWith('text/event-stream')) {
        await answer.body.dump();
        throw new Error(`the upstream answered the event stream with HTTP ${answer.status}`);
      }
      void this.#readStream(answer.body, parser);
      await endpoint;
    } catch (error) {
      this.#end((error as Error).message);
      throw new Error(connectionProblem(error) ?? (error as Error).message, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  async #readStream(body: AsyncIterable<Uint8Array>, parser: SseParser): Promise<void> {
    try {
      for await (const chunk of body) {
        parser.push(chunk);
        // Backpressure: while a client reads slowly, the stream is not read further (the body pauses the connection).
        if (this.#paused) await this.#paused.promise;
        if (!this.#alive) return;
      }
      this.#end("the upstream's event stream closed");
    } catch (error) {
      this.#end(`the upstream's event stream failed: ${connectionProblem(error) ?? (error as Error).message}`);
    }
  }

  #read(data: string): void {
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return this.#events?.onStderr(`(not JSON on the event stream) ${data.slice(0, 200)}`);
    }
    // The same shape rule as for other upstreams (docs/limits.md, "Messages").
    if (isWellFormedMessage(message)) this.#events?.onMessage(message);
    else this.#events?.onStderr(`(not JSON-RPC on the event stream) ${data.slice(0, 200)}`);
  }

  async #post(message: JsonRpcMessage): Promise<void> {
    if (!this.#alive || this.#endpoint === undefined) return;
    let problem: string | undefined;
    try {
      // Aborted with the stream: a POST the server never answers cannot hold up the channel's end (or shutdown).
      const answer = await httpSend(
        this.#endpoint,
        'POST',
        { ...this.#options.headers, 'content-type': 'application/json' },
        { body: JSON.stringify(message), signal: this.#stream.signal },
      );
      await answer.body.dump();
      if (answer.status < 200 || answer.status >= 300) problem = `the upstream refused a message with HTTP ${answer.status}`;
    } catch (error) {
      problem = `a message could not be sent: ${connectionProblem(error) ?? (error as Error).message}`;
    }
    if (problem === undefined || !this.#alive) return;
    this.#events?.onStderr(problem);
    // A request it refused is answered here, never left waiting for an answer that cannot come.
    if ('method' in message && 'id' in message) this.#events?.onMessage(upstreamFailure(message.id, problem));
  }

  #end(why: string): void {
    if (!this.#alive) return;
    this.#alive = false;
    this.#endedWhy = why;
    this.#stream.abort();
    this.resumeOutput();
    this.#events?.onExit();
  }
}
