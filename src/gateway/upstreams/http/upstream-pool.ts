/**
 * @module gateway/upstreams/http/upstream-pool
 * Several replicas of one MCP server behind the gateway (`--upstream` repeated). A new session
 * picks its replica by rendezvous (highest random weight) hashing on the client's correlation
 * id when it sent one, so parallel first calls of one conversation land on the same replica
 * from the very first request (the bootstrap problem of the SEP-2822 discussion), else on the
 * session id; the pick is pinned in the record. Replicas are checked in the background (a TCP
 * connect) and on every connection failure; a session whose replica is down moves to the best
 * healthy one on its next request, where its handshake is replayed.
 *
 * Rendezvous hashing moves only the sessions of a replica that goes away: the others keep
 * their pick, and every gateway replica computes the same pick without talking to the others.
 */
import { OptionError } from '../../../protocol/options.js';
import { createHash } from 'node:crypto';
import { connect } from 'node:net';

export interface UpstreamPoolOptions {
  /** How often each replica is checked. Default 2000 ms; 0 turns background checks off. */
  healthIntervalMs?: number;
  /** A check that takes longer fails. Default 1000 ms. */
  healthTimeoutMs?: number;
}

export class UpstreamPool {
  readonly urls: readonly URL[];
  readonly #down = new Set<string>();
  readonly #timeoutMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(urls: readonly (string | URL)[], options: UpstreamPoolOptions = {}) {
    if (urls.length === 0) throw new OptionError('url', 'sessiongate: an upstream pool needs at least one URL');
    this.urls = urls.map((url) => new URL(url));
    this.#timeoutMs = options.healthTimeoutMs ?? 1000;
    const interval = options.healthIntervalMs ?? 2000;
    if (interval > 0 && this.urls.length > 1) {
      this.#timer = setInterval(() => void this.checkAll(), interval);
      this.#timer.unref();
    }
  }

  /** The replica for `key` among those up (among all, when every one is down). */
  pick(key: string): URL {
    const up = this.urls.filter((url) => !this.#down.has(url.href));
    let best: URL | undefined;
    let bestScore = '';
    for (const url of up.length > 0 ? up : this.urls) {
      const score = createHash('sha256').update(key).update('\0').update(url.href).digest('hex');
      if (best === undefined || score > bestScore) [best, bestScore] = [url, score];
    }
    return best!;
  }

  isUp(url: URL): boolean {
    return !this.#down.has(url.href);
  }

  /** A request could not connect: stop sending new work there until a check says otherwise. */
  markDown(url: URL): void {
    if (this.urls.length > 1) this.#down.add(url.href);
  }

  async checkAll(): Promise<void> {
    await Promise.all(
      this.urls.map(async (url) => {
        if (await reachable(url, this.#timeoutMs)) this.#down.delete(url.href);
        else this.#down.add(url.href);
      }),
    );
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function reachable(url: URL, timeoutMs: number): Promise<boolean> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port, timeout: timeoutMs });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
