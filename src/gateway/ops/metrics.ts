/**
 * @module gateway/ops/metrics
 * Prometheus metrics (prom-client), fed by the same events as the audit log: sessions live,
 * created and ended (by reason), requests by method and outcome, and request durations; and
 * what is read at scrape time: live sessions, messages waiting for a GET stream.
 */
import { MessageQueue } from '../../server/message-queue.js';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEvent, EventSink } from '../audit-events.js';

/** Method labels are client-chosen text: only MCP's own methods become labels. */
const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
]);

/** What the gauges read at scrape time. */
export interface MetricSources {
  /** The store's count of live sessions. */
  liveSessions(): Promise<number>;
  /** Messages kept for a GET stream not open yet (session/undelivered.ts). */
  undeliveredMessages(): number;
  /** Requests waiting for a turn at the upstream (fair-slots.ts); 0 for stdio. */
  upstreamWaiting(): number;
  /** A federation's servers and whether each is up (docs/FEDERATION.md); absent without one. */
  servers?(): readonly { name: string; state: string }[];
  /** Child processes of stdio upstreams alive now; absent: 0. */
  stdioChildren?(): number;
}

export class GatewayMetrics implements EventSink {
  readonly registry = new Registry();
  readonly #created: Counter;
  readonly #ended: Counter<'reason'>;
  readonly #requests: Counter<'method' | 'outcome'>;
  readonly #duration: Histogram<'method'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    new Gauge({
      name: 'sessiongate_sessions_live',
      help: 'Sessions in the store that have not ended',
      registers,
      async collect() {
        this.set(await sources.liveSessions());
      },
    });
    new Gauge({
      name: 'sessiongate_stdio_children',
      help: "Child processes of this gateway's stdio upstreams alive now (sessions' children, spares and start-up probes)",
      registers,
      collect() {
        this.set(sources.stdioChildren?.() ?? 0);
      },
    });
    new Gauge({
      name: 'sessiongate_undelivered_messages',
      help: 'Server-to-client messages this replica keeps for sessions with no GET stream open (docs/limits.md)',
      registers,
      collect() {
        this.set(sources.undeliveredMessages());
      },
    });
    new Gauge({
      name: 'sessiongate_streams_behind',
      help: 'Call streams whose client reads more slowly than their source sends: the source is paused (docs/limits.md)',
      registers,
      collect() {
        this.set(MessageQueue.behind);
      },
    });
    new Gauge({
      name: 'sessiongate_upstream_waiting_requests',
      help: 'Requests waiting for a turn at the upstream, past --upstream-concurrency (docs/limits.md)',
      registers,
      collect() {
        this.set(sources.upstreamWaiting());
      },
    });
    if (sources.servers) {
      const servers = sources.servers.bind(sources);
      new Gauge({
        name: 'sessiongate_federated_server_up',
        help: 'Each federated server: 1 while it answers, 0 while it is down (docs/FEDERATION.md)',
        labelNames: ['server'],
        registers,
        collect() {
          for (const server of servers()) this.set({ server: server.name }, server.state === 'down' ? 0 : 1);
        },
      });
    }
    this.#created = new Counter({ name: 'sessiongate_sessions_created_total', help: 'Sessions created', registers });
    this.#ended = new Counter({
      name: 'sessiongate_sessions_ended_total',
      help: 'Sessions ended, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.#requests = new Counter({
      name: 'sessiongate_requests_total',
      help: 'JSON-RPC requests answered, by method and outcome',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'sessiongate_request_duration_seconds',
      help: 'Time to answer a JSON-RPC request',
      labelNames: ['method'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
  }

  write(event: AuditEvent): void {
    switch (event.event) {
      case 'session.created':
        this.#created.inc();
        break;
      case 'session.ended':
        this.#ended.inc({ reason: event.reason });
        break;
      case 'request': {
        const method = KNOWN_METHODS.has(event.method) ? event.method : 'other';
        this.#requests.inc({ method, outcome: event.outcome });
        // A person's think time is not the gateway's or the upstream's (docs/POLICY.md, "The audit trail").
        this.#duration.observe({ method }, (event.durationMs - (event.approvalWaitMs ?? 0)) / 1000);
        break;
      }
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
