/** Every live session, every replica's: searchable, filterable, each with Terminate (confirmed). */
import { useRef, useState } from 'preact/hooks';
import { api, duration, identityOf, type SessionRow } from './api.js';
import { HeaderRow } from './calls-table.js';

export function Sessions({ sessions }: { sessions: SessionRow[] }) {
  const [search, setSearch] = useState('');
  const [era, setEra] = useState('');
  const [ending, setEnding] = useState<SessionRow | undefined>();
  const [message, setMessage] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);
  const eras = [...new Set(sessions.map((row) => row.era))].sort();
  const needle = search.trim().toLowerCase();
  const shown = sessions.filter(
    (row) =>
      (era === '' || row.era === era) &&
      (needle === '' ||
        [
          row.tag,
          row.clientInfo?.name,
          row.clientInfo?.version,
          identityOf(row),
          row.upstream,
          row.lastCall?.name,
          ...row.held.map((call) => call.name),
        ]
          .filter(Boolean)
          .some((text) => String(text).toLowerCase().includes(needle))),
  );
  const confirm = (row: SessionRow): void => {
    setEnding(row);
    dialog.current?.showModal();
  };
  const terminate = async (): Promise<void> => {
    const row = ending;
    dialog.current?.close();
    if (!row) return;
    try {
      await api(`sessions/${encodeURIComponent(row.id)}`, { method: 'DELETE' });
      setMessage(`Session ${row.tag} terminated.`);
    } catch (failure) {
      setMessage(`Could not terminate ${row.tag}: ${(failure as Error).message}`);
    }
  };
  return (
    <section aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions ({sessions.length})</h2>
      <div class="filters">
        <label>
          Search <input type="search" value={search} onInput={(event) => setSearch(event.currentTarget.value)} />
        </label>
        <label>
          Era{' '}
          <select value={era} onChange={(event) => setEra(event.currentTarget.value)}>
            <option value="">all</option>
            {eras.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p role="status" class="status">
        {message}
      </p>
      {/* Scrolls sideways on a phone: focusable, so a keyboard can scroll it even with no row (and no button) in it. */}
      <div class="table" tabIndex={0} role="region" aria-label="Sessions table">
        <table>
          <HeaderRow
            names={['Session', 'Client', 'Identity', 'Era', 'Upstream', 'Age', 'Idle', 'Time left', 'Calls', 'Last call', 'Action']}
          />
          <tbody>
            {shown.map((row) => (
              <tr key={row.id} data-session={row.tag} class={row.held.length > 0 ? 'held' : ''}>
                <td>
                  <a href={`#/sessions/${encodeURIComponent(row.id)}`}>{row.tag}</a>
                </td>
                <td>{row.clientInfo ? `${row.clientInfo.name ?? '?'} ${row.clientInfo.version ?? ''}` : '?'}</td>
                <td>{identityOf(row)}</td>
                <td>{row.era}</td>
                <td>{row.upstream}</td>
                <td>{duration(row.ageMs)}</td>
                <td>{duration(row.idleMs)}</td>
                <td>{duration(row.leftMs)}</td>
                <td>{row.calls}</td>
                <td>
                  {row.held.length > 0 ? (
                    <a href="#/approvals" class="badge">
                      waiting for approval: {row.held.map((call) => `${call.method} ${call.name ?? ''}`.trim()).join(', ')}
                    </a>
                  ) : row.lastCall ? (
                    `${row.lastCall.method} ${row.lastCall.name ?? ''}`
                  ) : (
                    '-'
                  )}
                </td>
                <td>
                  <button type="button" class="danger" onClick={() => confirm(row)} aria-label={`Terminate session ${row.tag}`}>
                    Terminate
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <dialog ref={dialog} aria-labelledby="terminate-title">
        <h3 id="terminate-title">Terminate session {ending?.tag}?</h3>
        <p>Its client gets 404 on its next request; a child process is stopped and an upstream session ended.</p>
        <div class="actions">
          <button type="button" class="danger" onClick={() => void terminate()}>
            Terminate
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
    </section>
  );
}
