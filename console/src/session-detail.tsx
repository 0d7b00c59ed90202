/** One session: what it is, its calls in time order, its pending approvals (Approve / Deny). */
import { useEffect, useState } from 'preact/hooks';
import { api, type Approval, type AuditEvent, duration, identityOf, type SessionRow } from './api.js';
import { CallsTable } from './calls-table.js';

interface Detail {
  session: SessionRow;
  calls: AuditEvent[];
  approvals: Approval[];
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
  const decide = async (approval: Approval, verb: 'approve' | 'deny'): Promise<void> => {
    await api(`approvals/${encodeURIComponent(approval.id)}/${verb}`, { method: 'POST' }).catch((failure: Error) =>
      setError(failure.message),
    );
    setDetail(detail && { ...detail, approvals: detail.approvals.filter((pending) => pending.id !== approval.id) });
  };
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
      {detail.approvals.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul class="approvals">
          {detail.approvals.map((approval) => (
            <li key={approval.id}>
              <code>{approval.call.name ?? approval.call.method}</code> (rule {approval.call.rule})
              <ArgumentsView json={approval.call.arguments} />
              <button
                type="button"
                onClick={() => void decide(approval, 'approve')}
                aria-label={`Approve ${approval.call.name ?? approval.call.method}`}
              >
                Approve
              </button>
              <button
                type="button"
                class="danger"
                onClick={() => void decide(approval, 'deny')}
                aria-label={`Deny ${approval.call.name ?? approval.call.method}`}
              >
                Deny
              </button>
            </li>
          ))}
        </ul>
      )}
      <CallsTable calls={detail.calls} caption="Its calls (the last 20 this replica answered), oldest first" />
    </section>
  );
}

/** Past this many characters a value is folded (a click shows it whole); nothing is ever cut. */
const FOLD_AT = 160;

/**
 * A call's arguments as an operator approves them: every one, shortest first (as the user is
 * asked, docs/POLICY.md), long values folded behind a summary that says how long they are.
 */
function ArgumentsView({ json }: { json: string }) {
  let entries: [string, string][];
  try {
    const parsed = JSON.parse(json) as unknown;
    entries =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
        ? Object.entries(parsed).map(([name, value]) => [name, JSON.stringify(value)])
        : [['(arguments)', json]];
  } catch {
    entries = [['(arguments)', json]];
  }
  entries.sort((a, b) => a[1].length - b[1].length);
  if (entries.length === 0) return <p class="arguments">No arguments.</p>;
  return (
    <dl class="arguments">
      {entries.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>
            {value.length <= FOLD_AT ? (
              <code>{value}</code>
            ) : (
              <details>
                <summary>
                  <code>{value.slice(0, FOLD_AT)}</code> ({value.length} characters: show all)
                </summary>
                <pre>{value}</pre>
              </details>
            )}
          </dd>
        </div>
      ))}
    </dl>
  );
}
