/** One session: what it is, its calls in time order, its pending approvals (Approve / Deny). */
import { useEffect, useState } from 'preact/hooks';
import { api, type Approval, type AuditEvent, duration, identityOf, type SessionRow } from './api.js';
import { CallsTable } from './calls-table.js';
import { WaitingCalls } from './waiting-calls.js';

interface Detail {
  session: SessionRow;
  calls: AuditEvent[];
  approvals: Approval[];
  /** A trace viewer's URL with {traceId}, when the gateway links traces. */
  traceLink?: string;
}

/** How often a session's page looks again for approvals waiting on it. */
const DETAIL_REFRESH_MS = 2000;

export function SessionDetail({ id, tail }: { id: string; tail: AuditEvent[] }) {
  const [detail, setDetail] = useState<Detail | undefined>();
  const [error, setError] = useState('');
  const latest = tail.at(-1)?.time;
  // Loaded again on every call anyone finishes, and every few seconds: a call held for approval
  // finishes nothing until somebody decides it, and must still show up here.
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), DETAIL_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    api<Detail>(`sessions/${encodeURIComponent(id)}`)
      .then((loaded) => {
        setDetail(loaded);
        setError('');
      })
      .catch((failure: Error) => setError(failure.message));
  }, [id, latest, tick]);
  const decided = (approval: Approval): void =>
    setDetail(detail && { ...detail, approvals: detail.approvals.filter((pending) => pending.id !== approval.id) });
  if (error) return <p role="alert">{error === 'no such session' ? 'This session has ended.' : error}</p>;
  if (!detail) return <p>Loading…</p>;
  const { session } = detail;
  return (
    <section aria-labelledby="detail-title">
      <h2 id="detail-title">Session {session.tag}</h2>
      <dl class="facts">
        <dt>Client</dt>
        <dd>{session.clientInfo ? `${session.clientInfo.name ?? '?'} ${session.clientInfo.version ?? ''}` : '?'}</dd>
        <dt>Identity</dt>
        <dd>{identityOf(session)}</dd>
        <dt>Era</dt>
        <dd>{session.era}</dd>
        <dt>Upstream</dt>
        <dd>{session.upstream}</dd>
        <dt>Upstream session</dt>
        <dd>{session.upstreamSession ?? 'none (stdio, or not yet opened)'}</dd>
        <dt>Age / idle / left</dt>
        <dd>
          {duration(session.ageMs)} / {duration(session.idleMs)} / {duration(session.leftMs)}
        </dd>
      </dl>
      <h3>Pending approvals</h3>
      <WaitingCalls calls={detail.approvals} onDecided={decided} onError={setError} showSession={false} />
      <CallsTable calls={detail.calls} caption="Its calls (the last 20 this replica answered), oldest first" traceLink={detail.traceLink} />
    </section>
  );
}
