/** Calls as the audit saw them: time, session, identity, method, name, outcome, duration, decision, trace. */
import type { AuditEvent } from './api.js';

export function CallsTable({ calls, caption, traceLink }: { calls: AuditEvent[]; caption: string; traceLink?: string | undefined }) {
  return (
    <div class="table" tabIndex={0} role="region" aria-label={caption}>
      <table>
        <caption>{caption}</caption>
        <HeaderRow names={['Time', 'Session', 'Identity', 'Method', 'Name', 'Outcome', 'Duration', 'Decision', 'Trace']} />
        <tbody>
          {calls.map((call, i) => (
            <tr key={`${call.time}-${i}`} class={call.outcome === 'result' ? '' : 'failed'}>
              <td>{new Date(call.time).toLocaleTimeString()}</td>
              <td>{call.session ?? '-'}</td>
              <td>{call.identity?.subject ?? (call.principal ? call.principal.slice(0, 8) : 'anonymous')}</td>
              <td>{call.method}</td>
              <td>{call.name ?? ''}</td>
              <td>{call.outcome === 'error' ? `error ${call.code ?? ''}` : call.outcome}</td>
              <td>{call.durationMs === undefined ? '' : `${call.durationMs.toFixed(1)} ms`}</td>
              <td>{call.decision ? `${call.decision}${call.rule ? ` (${call.rule})` : ''}` : ''}</td>
              <td>
                <Trace id={call.traceId} link={traceLink} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A call's trace id, a link to the trace viewer when one is configured; ids are 32 hex digits, nothing else is linked. */
function Trace({ id, link }: { id: string | undefined; link: string | undefined }) {
  if (id === undefined || !/^[0-9a-f]{32}$/.test(id)) return null;
  if (link === undefined) return <code>{id}</code>;
  return (
    <a href={link.replace('{traceId}', id)} target="_blank" rel="noopener noreferrer">
      <code>{id}</code>
    </a>
  );
}

/** A table's column headers. */
export function HeaderRow({ names }: { names: string[] }) {
  return (
    <thead>
      <tr>
        {names.map((name) => (
          <th key={name} scope="col">
            {name}
          </th>
        ))}
      </tr>
    </thead>
  );
}
