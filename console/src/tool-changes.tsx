/**
 * Tools whose definition changed since it was pinned (or that appeared later), waiting for an
 * operator (docs/CURATION.md, "Accepting a change"): the pinned definition and the one the
 * server lists now side by side, each line that differs marked, and Accept, which accepts
 * exactly the definition shown (by its hash; a server that changed it again since is refused).
 */
import { diffLines } from 'diff';
import { useEffect, useState } from 'preact/hooks';
import { api, type PendingTool, type PinsView } from './api.js';

/** How often the list is asked for again while the view is open. */
const REFRESH_MS = 5000;

export function ToolChanges() {
  const [view, setView] = useState<PinsView | undefined>(undefined);
  const [message, setMessage] = useState('');
  const load = (): void => {
    api<PinsView>('pins')
      .then(setView)
      .catch((failure: unknown) => setMessage((failure as Error).message));
  };
  useEffect(() => {
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const accept = async (change: PendingTool): Promise<void> => {
    try {
      await api(`pins/${encodeURIComponent(change.server)}/${encodeURIComponent(change.tool)}/accept`, {
        method: 'POST',
        body: { hash: change.hash },
      });
      setMessage(`${change.server} / ${change.tool}: accepted.`);
    } catch (failure) {
      setMessage((failure as Error).message);
    }
    load();
  };
  return (
    <section aria-labelledby="tool-changes-title">
      <h2 id="tool-changes-title">Tool changes waiting ({view?.pending.length ?? 0})</h2>
      <p role="status" class="status">
        {message}
      </p>
      {view === undefined ? (
        <p>Loading…</p>
      ) : view.pending.length === 0 ? (
        <p>None: every tool the servers list is the one pinned.</p>
      ) : (
        <ul class="tool-changes">
          {view.pending.map((change) => (
            <li key={`${change.server}/${change.tool}`} data-tool={`${change.server}/${change.tool}`}>
              <h3>
                {change.server} / <code>{change.tool}</code>:{' '}
                {change.change === 'added' ? 'appeared after the tools were pinned' : `changed (${change.fields.join(', ')})`}
              </h3>
              <p>Seen {new Date(change.seenAt).toLocaleString()}.</p>
              <SideBySide before={change.accepted?.definition ?? null} after={change.definition} added={change.change === 'added'} />
              <div class="actions">
                <button
                  type="button"
                  onClick={() => void accept(change)}
                  aria-label={`Accept the new definition of ${change.tool} (${change.server})`}
                >
                  Accept
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {view && view.servers.length > 0 && (
        <>
          <h3>Pinned</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">Server</th>
                <th scope="col">Tools pinned</th>
                <th scope="col">Complete list seen</th>
              </tr>
            </thead>
            <tbody>
              {view.servers.map((server) => (
                <tr key={server.name}>
                  <td>{server.name}</td>
                  <td>{server.pinned}</td>
                  <td>{server.sealed ? 'yes' : 'not yet'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

/** The two definitions as pretty JSON, side by side; lines only one side has are marked (del / ins), so the difference is read, not guessed. */
function SideBySide({ before, after, added }: { before: object | null; after: object | null; added: boolean }) {
  const left = before === null ? '' : `${JSON.stringify(before, null, 2)}\n`;
  const right = after === null ? '' : `${JSON.stringify(after, null, 2)}\n`;
  const parts = diffLines(left, right);
  return (
    <div class="side-by-side">
      <figure>
        <figcaption>Pinned</figcaption>
        {added ? (
          <p>Nothing: the tool is new.</p>
        ) : before === null ? (
          <p>Too large to keep (its hash is pinned).</p>
        ) : (
          <pre>
            {parts
              .filter((part) => !part.added)
              .map((part, index) => (part.removed ? <del key={index}>{part.value}</del> : <span key={index}>{part.value}</span>))}
          </pre>
        )}
      </figure>
      <figure>
        <figcaption>Listed now</figcaption>
        {after === null ? (
          <p>Too large to show (its hash is recorded).</p>
        ) : (
          <pre>
            {parts
              .filter((part) => !part.removed)
              .map((part, index) => (part.added ? <ins key={index}>{part.value}</ins> : <span key={index}>{part.value}</span>))}
          </pre>
        )}
      </figure>
    </div>
  );
}
