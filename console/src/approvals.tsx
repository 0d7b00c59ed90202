/** Every call waiting for an operator, every replica's, oldest first: the operator's to-do list. */
import { useState } from 'preact/hooks';
import type { Approval, SessionRow } from './api.js';
import { WaitingCalls } from './waiting-calls.js';

export function Approvals({ calls, sessions }: { calls: Approval[]; sessions: SessionRow[] }) {
  const [decided, setDecided] = useState<ReadonlySet<string>>(new Set());
  const [message, setMessage] = useState('');
  const sessionIds = new Map(sessions.map((row) => [row.tag, row.id]));
  // A decided call leaves the list at once, before the next second's update says so.
  const shown = calls.filter((approval) => !decided.has(approval.id));
  return (
    <section aria-labelledby="approvals-title">
      <h2 id="approvals-title">Waiting for approval ({shown.length})</h2>
      <p role="status" class="status">
        {message}
      </p>
      <WaitingCalls
        calls={shown}
        showSession
        sessionIds={sessionIds}
        onDecided={(approval) => {
          setDecided((before) => new Set([...before, approval.id]));
          setMessage(`${approval.call.name ?? approval.call.method} decided.`);
        }}
        onError={setMessage}
      />
    </section>
  );
}
