/**
 * @module store/redis/redis-bus
 * The session bus over Redis pub/sub: one channel per store prefix, JSON messages tagged with
 * the sending replica (its own are ignored). Subscribing opens a second connection (a
 * subscribed Redis connection can do nothing else); a reconnect of it calls `reset`, since
 * messages published meanwhile are lost. Ownership epochs are a counter in the session's hash,
 * so they vanish with it.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BusMessage, SessionBus } from '../bus.js';

type Handlers = Parameters<SessionBus['subscribe']>[0];

export class RedisBus implements SessionBus {
  readonly #redis: Redis;
  readonly #channel: string;
  readonly #claim: (id: string) => Promise<number>;
  readonly #replica = randomUUID();
  readonly #handlers = new Set<Handlers>();
  #subscriber: Redis | undefined;
  #subscribed = false;

  /** `claim` is the store's atomic epoch counter (scripts.ts CLAIM, through its 503 mapping). */
  constructor(redis: Redis, prefix: string, claim: (id: string) => Promise<number>) {
    this.#redis = redis;
    this.#channel = `${prefix}bus`;
    this.#claim = claim;
  }

  /** Whether messages from other replicas are arriving now (the subscription is up). */
  get connected(): boolean {
    return this.#subscribed && this.#subscriber?.status === 'ready';
  }

  publish(message: BusMessage): void {
    if (this.#redis.status !== 'ready') return;
    this.#redis.publish(this.#channel, JSON.stringify({ ...message, from: this.#replica })).catch(() => {});
  }

  subscribe(handlers: Handlers): () => void {
    this.#handlers.add(handlers);
    this.#subscriber ??= this.#open();
    return () => this.#handlers.delete(handlers);
  }

  claim(id: string): Promise<number> {
    return this.#claim(id);
  }

  async close(): Promise<void> {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    subscriber?.disconnect();
  }

  #open(): Redis {
    const subscriber = this.#redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
    subscriber.on('error', () => {});
    let connectedOnce = false;
    subscriber.on('ready', () => {
      // Messages sent while this connection was down are lost: caches must not trust them.
      if (connectedOnce) {
        // ioredis subscribes again before it is ready (autoResubscribe).
        this.#subscribed = true;
        for (const handlers of this.#handlers) handlers.reset?.();
      }
      connectedOnce = true;
    });
    subscriber.on('close', () => {
      this.#subscribed = false;
      for (const handlers of this.#handlers) handlers.reset?.();
    });
    subscriber.on('message', (_channel: string, text: string) => {
      let message: (BusMessage & { from?: string }) | undefined;
      try {
        message = JSON.parse(text) as BusMessage & { from?: string };
      } catch {
        return;
      }
      if (message.from === this.#replica) return;
      for (const handlers of this.#handlers) handlers.message(message);
    });
    subscriber.subscribe(this.#channel).then(
      () => (this.#subscribed = true),
      () => {},
    );
    return subscriber;
  }
}
