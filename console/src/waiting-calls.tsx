/**
 * Calls waiting for an operator, each with who asked (the name the sessions view gives them),
 * from which session and client, what (method, name, the rule that holds it), every argument,
 * how long it has waited and how long it has left, and Approve / Deny.
 */
import { api, type Approval, duration, identityOf } from './api.js';
import { ArgumentsView } from './arguments-view.js';

export interface WaitingCallsProps {
  calls: Approval[];
  /** Told when a decision was taken (the list drops the call at once). */
  onDecided: (approval: Approval) => void;
  onError: (message: string) => void;
  /** Whether each call names its session (not on the session's own page). */
  showSession: boolean;
  /** Live sessions' ids by tag, to link a call to its session's page. */
  sessionIds?: ReadonlyMap<string, string>;
}

export function WaitingCalls({ calls, onDecided, onError, showSession, sessionIds }: WaitingCallsProps) {
  if (calls.length === 0) return <p>None.</p>;
  const decide = async (approval: Approval, verb: 'approve' | 'deny'): Promise<void> => {
    try {
      await api(`approvals/${encodeURIComponent(approval.id)}/${verb}`, { method: 'POST' });
      onDecided(approval);
    } catch (failure) {
      onError((failure as Error).message);
    }
  };
  return (
    <ul class="approvals">
      {calls.map((approval) => {
        const { call } = approval;
        const what = call.name ?? call.method;
        const from = showSession && call.session ? ` in session ${call.session}` : '';
        return (
          <li key={approval.id} data-approval={approval.id}>
            <dl class="facts">
              <dt>Who</dt>
              <dd>{identityOf(call)}</dd>
              {showSession && (
                <>
                  <dt>Session</dt>
                  <dd>
                    <SessionLink tag={call.session} id={call.session === null ? undefined : sessionIds?.get(call.session)} />
                  </dd>
                </>
              )}
              <dt>Client</dt>
              <dd>{call.client ? `${call.client.name ?? '?'} ${call.client.version ?? ''}` : '?'}</dd>
              <dt>What</dt>
              <dd>
                <code>{call.method}</code> {call.name && <code>{call.name}</code>} (rule {call.rule})
              </dd>
              <dt>Waiting</dt>
              <dd>
                {duration(approval.ageMs)}, {duration(approval.leftMs)} left
              </dd>
            </dl>
            <ArgumentsView json={call.arguments} />
            <div class="actions">
              <button type="button" onClick={() => void decide(approval, 'approve')} aria-label={`Approve ${what}${from}`}>
                Approve
              </button>
              <button type="button" class="danger" onClick={() => void decide(approval, 'deny')} aria-label={`Deny ${what}${from}`}>
                Deny
              </button>
            </div>
          </li>
        );
      })}
    </ul>
  );
}

function SessionLink({ tag, id }: { tag: string | null; id: string | undefined }) {
  if (tag === null) return <>none</>;
  return id === undefined ? <>{tag}</> : <a href={`#/sessions/${encodeURIComponent(id)}`}>{tag}</a>;
}
