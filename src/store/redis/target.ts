/**
 * @module store/redis/target
 * Where the Redis store connects, written as one URL in any of the shapes ioredis itself
 * supports (issue "replicas": a Cluster/Sentinel form through the client's own support):
 *
 * - `redis://[user:pass@]host:port[/db]`, `rediss://...` (TLS): one server;
 * - `redis-cluster://[user:pass@]host:port,host:port,...`: a Redis Cluster, from some of its
 *   nodes (the others are discovered);
 * - `redis-sentinel://[user:pass@]host:port,host:port,.../master-name`: the master a set of
 *   Sentinels monitor, followed through failovers. The credentials are the master's.
 *
 * No ioredis here: the CLI parses `--store` without loading the Redis client.
 */
import { OptionError } from '../../protocol/options.js';
export interface RedisNode {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'server'; url: string }
  | { kind: 'cluster'; nodes: RedisNode[]; username?: string; password?: string }
  | { kind: 'sentinel'; sentinels: RedisNode[]; name: string; username?: string; password?: string };

const MULTI = /^(redis-cluster|redis-sentinel):\/\/(?:([^@/]*)@)?([^/@]+)(?:\/(.*))?$/;
const NODE = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/;

/** The target a URL names; throws a one-line reason when it names none. */
export function parseRedisTarget(text: string): RedisTarget {
  if (/^rediss?:\/\/[^/]/.test(text)) {
    try {
      new URL(text);
      return { kind: 'server', url: text };
    } catch {
      throw new OptionError('url', `"${text}" is not a valid redis:// URL`);
    }
  }
  const match = MULTI.exec(text);
  if (!match) throw new OptionError('url', `"${text}" is not a redis://, rediss://, redis-cluster:// or redis-sentinel:// URL`);
  const [, scheme, auth, hosts, path] = match;
  const defaultPort = scheme === 'redis-sentinel' ? 26379 : 6379;
  const nodes = hosts!.split(',').map((host) => {
    const node = NODE.exec(host.trim());
    const port = Number(node?.[3] ?? defaultPort);
    if (!node || !(port > 0 && port < 65536)) throw new OptionError('url', `"${host}" in "${scheme}://" is not host:port`);
    return { host: node[1] ?? node[2]!, port };
  });
  const credentials = auth === undefined ? {} : credentialsOf(auth);
  if (scheme === 'redis-cluster') {
    if (path) throw new OptionError('url', 'redis-cluster:// takes no path (a cluster has one database)');
    return { kind: 'cluster', nodes, ...credentials };
  }
  const name = decodeURIComponent(path ?? '');
  if (name === '') throw new OptionError('url', 'redis-sentinel:// needs the master name as its path: redis-sentinel://host:port/mymaster');
  return { kind: 'sentinel', sentinels: nodes, name, ...credentials };
}

function credentialsOf(auth: string): { username?: string; password?: string } {
  const colon = auth.indexOf(':');
  const username = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon));
  const password = colon < 0 ? undefined : decodeURIComponent(auth.slice(colon + 1));
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

/** The target for logs: hosts only, never credentials. */
export function describeRedisTarget(target: RedisTarget): string {
  if (target.kind === 'server') {
    const url = new URL(target.url);
    return `${url.protocol}//${url.host}`;
  }
  const hosts = (target.kind === 'cluster' ? target.nodes : target.sentinels).map((node) => `${node.host}:${node.port}`).join(',');
  return target.kind === 'cluster' ? `redis-cluster://${hosts}` : `redis-sentinel://${hosts}/${target.name}`;
}
