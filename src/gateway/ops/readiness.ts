/**
 * @module gateway/ops/readiness
 * `GET /readyz`: whether this gateway can serve a new session now. The store must answer within
 * a second, and an HTTP upstream (one replica of a pool) must answer an initialize; the upstream
 * answer is kept for two seconds so a busy probe loop does not become upstream load; and the
 * listener must not be saturated (90% of `--max-connections` open). 200 with `{"ready":true}`,
 * else 503 with the reasons. `/healthz` stays liveness only.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { probeHttp } from '../upstreams/upstream-probes.js';

const STORE_TIMEOUT_MS = 1000;
const UPSTREAM_CACHE_MS = 2000;

export interface ReadinessSources {
  store: () => { count(): Promise<number> } | undefined;
  /** HTTP upstream URLs (any one answering is enough); none for stdio. */
  upstreams: readonly string[];
  upstreamHeaders?: Record<string, string>;
  /** Why this process should get no new work now (saturated), if it should not. */
  saturation?: () => Promise<string | undefined>;
}

export function readinessRoute(sources: ReadinessSources): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  let upstream: { at: number; problem: Promise<string | undefined> } | undefined;

  function upstreamProblem(): Promise<string | undefined> {
    if (sources.upstreams.length === 0) return Promise.resolve(undefined);
    if (!upstream || Date.now() - upstream.at > UPSTREAM_CACHE_MS) {
      const problem = Promise.all(sources.upstreams.map((url) => probeHttp(url, sources.upstreamHeaders, STORE_TIMEOUT_MS))).then(
        (problems) => (problems.some((p) => p === undefined) ? undefined : problems[0]),
      );
      upstream = { at: Date.now(), problem };
    }
    return upstream.problem;
  }

  async function storeProblem(): Promise<string | undefined> {
    const store = sources.store();
    if (!store) return 'starting';
    try {
      await Promise.race([
        store.count(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('no answer in time')), STORE_TIMEOUT_MS).unref()),
      ]);
      return undefined;
    } catch (error) {
      return `the session store: ${(error as Error).message}`;
    }
  }

  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    const saturated = sources.saturation?.() ?? Promise.resolve(undefined);
    const problems = (await Promise.all([storeProblem(), upstreamProblem(), saturated])).filter((p): p is string => p !== undefined);
    const body = JSON.stringify(problems.length === 0 ? { ready: true } : { ready: false, problems });
    res.writeHead(problems.length === 0 ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
  };
}

/** Saturation of a listener: 90% or more of its connection cap open (never without a cap). */
export function connectionSaturation(server: () => Server | undefined): () => Promise<string | undefined> {
  return () =>
    new Promise((resolve) => {
      const listening = server();
      const maxConnections = listening?.maxConnections;
      if (!listening || maxConnections === undefined || !Number.isFinite(maxConnections)) return resolve(undefined);
      listening.getConnections((error, open) => {
        if (error || open < maxConnections * 0.9) return resolve(undefined);
        resolve(`saturated: ${open} of ${maxConnections} connections open`);
      });
    });
}
