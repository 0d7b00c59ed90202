/**
 * @module store/redis/redis-bus
 * The session bus over Redis pub/sub: one channel per store prefix, JSON messages tagged with
 * the sending replica (its own are ignored). Subscribing opens a second connection (a
 * subscribed Redis connection can do nothing else); a reconnect of it calls `reset`, since
 * messages published meanwhile are lost. Ownership epochs are a counter in the session's hash,
 * so they vanish with it. A session's own channels (`<prefix><channel>:<id>`) are subscribed
 * only while this replica holds something of that session, so a replica hears only of its own.
 * On a Redis Cluster the bus uses sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7): the prefix's
 * hash tag puts every channel on one shard, which answers with the true count of listeners
 * (a classic PUBLISH on a cluster counts only the listeners of the node it reached).
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { ioredis } from './ioredis.js';
import type { JsonObject } from '../../protocol/jsonrpc.js';
import type { BusMessage, SessionBus, SessionChannel } from '../bus.js';

type Handlers = Parameters<SessionBus['subscribe']>[0];

export class RedisBus implements SessionBus {
  readonly #redis: Redis | Cluster;
  readonly #sharded: boolean;
  readonly #channel: string;
  readonly #claim: (id: string) => Promise<number>;
  readonly #replica = randomUUID();
  readonly #handlers = new Set<Handlers>();
  readonly #prefix: string;
  /** Listeners of session channels, by channel name. */
  readonly #listeners = new Map<string, Set<(payload: JsonObject) => void>>();
  #subscriber: Redis | Cluster | undefined;
  #subscribed = false;

  /** `claim` is the store's atomic epoch counter (scripts.ts CLAIM, through its 503 mapping). */
  constructor(redis: Redis | Cluster, prefix: string, claim: (id: string) => Promise<number>) {
    this.#redis = redis;
    this.#sharded = redis instanceof ioredis().Cluster;
    this.#prefix = prefix;
    this.#channel = `${prefix}bus`;
    this.#claim = claim;
  }

  /** Whether messages from other replicas are arriving now (the subscription is up). */
  get connected(): boolean {
    return this.#subscribed && this.#subscriber?.status === 'ready';
  }

  publish(message: BusMessage): void {
    if (this.#redis.status !== 'ready') return;
    this.#publish(this.#channel, JSON.stringify({ ...message, from: this.#replica })).catch(() => {});
  }

  subscribe(handlers: Handlers): () => void {
    this.#handlers.add(handlers);
    this.#subscriber ??= this.#open();
    return () => this.#handlers.delete(handlers);
  }

  claim(id: string): Promise<number> {
    return this.#claim(id);
  }

  async send(channel: SessionChannel, id: string, payload: JsonObject): Promise<number> {
    if (this.#redis.status !== 'ready') return 0;
    const name = this.#channelOf(channel, id);
    try {
      const heard = await this.#publish(name, JSON.stringify({ from: this.#replica, payload }));
      // This replica's own subscription is counted by Redis, but it does not hear itself.
      return heard - (this.#listeners.has(name) ? 1 : 0);
    } catch {
      return 0;
    }
  }

  listen(channel: SessionChannel, id: string, onPayload: (payload: JsonObject) => void): () => void {
    const name = this.#channelOf(channel, id);
    const subscriber = (this.#subscriber ??= this.#open());
    let listeners = this.#listeners.get(name);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(name, listeners);
      this.#subscribe(subscriber, name).catch(() => {});
    }
    listeners.add(onPayload);
    return () => {
      const current = this.#listeners.get(name);
      if (!current?.delete(onPayload) || current.size > 0) return;
      this.#listeners.delete(name);
      const subscriber = this.#subscriber;
      if (subscriber) (this.#sharded ? subscriber.sunsubscribe(name) : subscriber.unsubscribe(name)).catch(() => {});
    };
  }

  #channelOf(channel: SessionChannel, id: string): string {
    return `${this.#prefix}${channel}:${id}`;
  }

  async close(): Promise<void> {
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    subscriber?.disconnect();
  }

  #publish(channel: string, text: string): Promise<number> {
    return (this.#sharded ? this.#redis.spublish(channel, text) : this.#redis.publish(channel, text)) as Promise<number>;
  }

  #subscribe(subscriber: Redis | Cluster, channel: string): Promise<unknown> {
    return this.#sharded ? subscriber.ssubscribe(channel) : subscriber.subscribe(channel);
  }

  #open(): Redis | Cluster {
    const redis = this.#redis;
    // A subscribed connection waits for messages without a deadline, and queues its
    // (re)subscriptions while it reconnects.
    const subscriber =
      redis instanceof ioredis().Cluster
        ? redis.duplicate([], {
            shardedSubscribers: true,
            enableOfflineQueue: true,
            redisOptions: { ...redis.options.redisOptions, commandTimeout: undefined },
          })
        : redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
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
    subscriber.on(this.#sharded ? 'smessage' : 'message', (channel: string, text: string) => {
      if (channel !== this.#channel) return this.#heard(channel, text);
      let message: (BusMessage & { from?: string }) | undefined;
      try {
        message = JSON.parse(text) as BusMessage & { from?: string };
      } catch {
        return;
      }
      if (message.from === this.#replica) return;
      for (const handlers of this.#handlers) handlers.message(message);
    });
    this.#subscribe(subscriber, this.#channel).then(
      () => (this.#subscribed = true),
      () => {},
    );
    return subscriber;
  }

  /** A message on a session channel, for this replica's listeners there. */
  #heard(channel: string, text: string): void {
    const listeners = this.#listeners.get(channel);
    if (!listeners) return;
    let sent: { from?: unknown; payload?: unknown };
    try {
      sent = JSON.parse(text) as { from?: unknown; payload?: unknown };
    } catch {
      return;
    }
    if (sent.from === this.#replica || typeof sent.payload !== 'object' || sent.payload === null) return;
    for (const listener of [...listeners]) {
      try {
        listener(sent.payload as JsonObject);
      } catch {
        // A listener's fault must not break the subscriber connection's parser.
      }
    }
  }
}
