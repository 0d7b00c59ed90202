/**
 * @module gateway/upstreams/stdio/stdio-child
 * One MCP server child process spoken to over stdio (newline-delimited JSON-RPC, the stdio
 * transport). Stopping it is SIGTERM, then SIGKILL after a grace period; `stopped` settles only
 * once the process is really gone, so no path leaves a child behind.
 */
import type { ChannelEvents, MessageChannel } from '../message-channel.js';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { isWellFormedMessage, type JsonRpcMessage } from '../../../protocol/jsonrpc.js';
import { childEnvironment } from './child-environment.js';
import { internalRequestId } from '../../../protocol/internal-ids.js';
import { ByteLineSplitter, LineSplitter } from '../../../protocol/line-splitter.js';

export interface StdioCommand {
  command: string;
  args: readonly string[];
  /**
   * Variables added to the child's environment. The child never inherits the gateway's whole
   * environment: only the harmless list of child-environment.ts, then these; SESSIONGATE_*
   * names are dropped.
   */
  env?: Readonly<Record<string, string>>;
  /**
   * The longest message the child may write, in bytes: past it the child is stopped (its
   * requests in flight answered with the reason) and the next request starts a fresh one.
   * Default 16 MiB (docs/limits.md, "Messages").
   */
  maxMessageLength?: number;
}

export const DEFAULT_MAX_MESSAGE_LENGTH = 16 * 1024 * 1024;
/** A stderr line longer than this is cut (it is only logged). */
const MAX_STDERR_LINE = 64 * 1024;

/** A server that does not answer a ping before initialize is taken as ready after this long. */
const READY_TIMEOUT_MS = 5000;

export class StdioChild implements MessageChannel {
  static #running = 0;
  /** Children of this process alive now, of every stdio upstream (the `sessiongate_stdio_children` gauge). */
  static get running(): number {
    return StdioChild.#running;
  }

  readonly pid: number | undefined;
  readonly #process: ChildProcessWithoutNullStreams;
  readonly stopped: Promise<void>;
  /**
   * Settles once the child answered the ping sent at spawn (the lifecycle allows pings before
   * initialize): its runtime is loaded and its request path warm. Also settles when it exits or
   * after a timeout, so a server that ignores the ping only delays, never blocks. A server that
   * exits on a request before initialize (none seen) would look like a spare that died.
   */
  readonly ready: Promise<void>;
  #markReady!: () => void;
  #events: ChannelEvents | undefined;
  #overLimit: string | undefined;
  #alive = true;
  #exitReason: string | undefined;
  /** The id of the ping the child is sent at spawn; its answer never leaves this class. */
  readonly #warmUpId = internalRequestId('warm-up');

  constructor(command: StdioCommand) {
    this.#process = spawn(command.command, [...command.args], { stdio: ['pipe', 'pipe', 'pipe'], env: environmentOf(command) });
    this.pid = this.#process.pid;
    if (this.pid !== undefined) StdioChild.#running++;
    this.stopped = new Promise<void>((resolve) => {
      const done = (reason: string): void => {
        if (this.#alive && this.pid !== undefined) StdioChild.#running--;
        this.#alive = false;
        this.#exitReason ??= reason;
        this.#events?.onExit();
        resolve();
      };
      this.#process.once('exit', (code, signal) => done(signal === null ? `exited with code ${code}` : `killed by ${signal}`));
      // A command that cannot be spawned emits 'error' and no 'exit'.
      this.#process.once('error', (error) => this.#alive && done(`could not be started: ${error.message}`));
    });
    const maxLength = command.maxMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
    const stdout = new ByteLineSplitter(
      {
        onLine: (line) => this.#read(line),
        onTooLong: () => {
          this.#events?.onStderr(`(a message over ${maxLength} bytes on stdout: the child is stopped)`);
          this.#overLimit = `it sent a message over the ${maxLength}-byte limit`;
          void this.stop(2000);
        },
      },
      { maxLength },
    );
    // Bytes, not text: a line past the limit is skipped without being decoded.
    this.#process.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    const stderr = new LineSplitter(
      {
        onLine: (line) => {
          if (line !== '') this.#events?.onStderr(line);
        },
        onTooLong: (length) => this.#events?.onStderr(`(a stderr line over ${length} characters, not shown)`),
      },
      { maxLength: MAX_STDERR_LINE },
    );
    this.#process.stderr.setEncoding('utf8');
    this.#process.stderr.on('data', (chunk: string) => stderr.push(chunk));
    // Writing to a child that died is reported by exit, not by an unhandled error.
    this.#process.stdin.on('error', () => {});
    this.ready = new Promise<void>((resolve) => (this.#markReady = resolve));
    const timer = setTimeout(this.#markReady, READY_TIMEOUT_MS).unref();
    void this.stopped.then(this.#markReady);
    void this.ready.then(() => clearTimeout(timer));
    this.send({ jsonrpc: '2.0', id: this.#warmUpId, method: 'ping' });
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** How the process ended ("exited with code 1", "could not be started: ..."), once it has. */
  get exitReason(): string | undefined {
    return this.#exitReason;
  }

  /** Who hears this child from now on (a spare gets its session when taken). */
  bind(events: ChannelEvents): void {
    this.#events = events;
    if (!this.#alive) events.onExit();
  }

  send(message: JsonRpcMessage): boolean {
    if (!this.#alive || !this.#process.stdin.writable) return false;
    this.#process.stdin.write(JSON.stringify(message) + '\n');
    return true;
  }

  /** Stops reading stdout (backpressure: the child blocks once the pipe is full). */
  pauseOutput(): void {
    this.#process.stdout.pause();
  }

  resumeOutput(): void {
    this.#process.stdout.resume();
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs: number): Promise<void> {
    if (!this.#alive) return this.stopped;
    this.#process.stdin.end();
    this.#process.kill('SIGTERM');
    const timer = setTimeout(() => this.#process.kill('SIGKILL'), graceMs);
    await this.stopped;
    clearTimeout(timer);
  }

  /** Why calls on it fail once it has ended (MessageChannel). */
  get endedWhy(): string {
    if (this.#overLimit !== undefined) return `the upstream process was stopped: ${this.#overLimit}`;
    return 'the upstream process exited';
  }

  #read(line: string): void {
    if (line.trim() === '') return;
    try {
      const message = JSON.parse(line) as unknown;
      // The same shape rule as for HTTP upstreams (docs/limits.md, "Messages").
      if (!isWellFormedMessage(message)) this.#events?.onStderr(`(not JSON-RPC on stdout) ${line.slice(0, 200)}`);
      else if ('id' in message && message.id === this.#warmUpId && !('method' in message)) this.#markReady();
      else this.#events?.onMessage(message);
    } catch {
      this.#events?.onStderr(`(not JSON on stdout) ${line.slice(0, 200)}`);
    }
  }
}

function environmentOf(command: StdioCommand): Record<string, string> {
  const extra = Object.entries(command.env ?? {}).map(([name, value]) => ({ name, copy: false as const, value }));
  return childEnvironment(extra);
}
