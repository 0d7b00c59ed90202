/** Every call as it happens, filterable by identity, tool and outcome. */
import { useState } from 'preact/hooks';
import type { AuditEvent } from './api.js';
import { CallsTable } from './calls-table.js';

export function LiveTail({ tail }: { tail: AuditEvent[] }) {
  const [identity, setIdentity] = useState('');
  const [tool, setTool] = useState('');
  const [outcome, setOutcome] = useState('');
  const shown = tail.filter(
    (call) =>
      (identity === '' || (call.identity?.subject ?? call.principal ?? 'anonymous').includes(identity)) &&
      (tool === '' || (call.name ?? call.method ?? '').includes(tool)) &&
      (outcome === '' || call.outcome === outcome),
  );
  return (
    <section aria-labelledby="tail-title">
      <h2 id="tail-title">Live tail</h2>
      <div class="filters">
        <label>
          Identity <input value={identity} onInput={(event) => setIdentity(event.currentTarget.value)} />
        </label>
        <label>
          Tool <input value={tool} onInput={(event) => setTool(event.currentTarget.value)} />
        </label>
        <label>
          Outcome{' '}
          <select value={outcome} onChange={(event) => setOutcome(event.currentTarget.value)}>
            <option value="">all</option>
            <option value="result">result</option>
            <option value="tool-error">tool-error</option>
            <option value="error">error</option>
          </select>
        </label>
      </div>
      <CallsTable calls={[...shown].reverse()} caption="Newest first, since this page opened" />
    </section>
  );
}
