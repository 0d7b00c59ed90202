/** The console: signed out, the sign-in page; signed in, one live stream feeds every view. */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Approval, type AuditEvent, type MetricPoint, type SessionRow, setCsrf } from './api.js';
import { Approvals } from './approvals.js';
import { Charts } from './charts.js';
import { Grants, type PeopleViews } from './grants.js';
import { LiveTail } from './live-tail.js';
import { SessionDetail } from './session-detail.js';
import { Sessions } from './sessions.js';
import { SignIn } from './sign-in.js';
import { ToolChanges } from './tool-changes.js';

/** Calls the tail keeps in the page. */
const TAIL = 500;

function useRoute(): string {
  const [hash, setHash] = useState(location.hash || '#/sessions');
  useEffect(() => {
    const changed = (): void => setHash(location.hash || '#/sessions');
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return hash;
}

export function App() {
  const [state, setState] = useState<'checking' | 'out' | 'in'>('checking');
  const [people, setPeople] = useState<PeopleViews>({ grants: false, connections: false });
  const [pinned, setPinned] = useState(false);
  const signedIn = (csrf: string): void => {
    setCsrf(csrf);
    setState('in');
    // Whether the gateway issues tokens, or brokers people's own credentials (the Grants view), asked once signed in.
    api<{ grants?: boolean; connections?: boolean; pins?: boolean }>('me')
      .then((me) => {
        setPeople({ grants: me.grants === true, connections: me.connections === true });
        setPinned(me.pins === true);
      })
      .catch(() => undefined);
  };
  useEffect(() => {
    api<{ csrf: string }>('me')
      .then(({ csrf }) => signedIn(csrf))
      .catch(() => setState('out'));
  }, []);
  if (state === 'checking') return <p>Loading…</p>;
  if (state === 'out') return <SignIn onSignedIn={signedIn} />;
  return <Console people={people} pinned={pinned} onSignedOut={() => setState('out')} />;
}

function Console({ people, pinned, onSignedOut }: { people: PeopleViews; pinned: boolean; onSignedOut: () => void }) {
  const route = useRoute();
  const [sessions, setSessions] = useState<SessionRow[]>([]);
  const [waiting, setWaiting] = useState<Approval[]>([]);
  const [tail, setTail] = useState<AuditEvent[]>([]);
  const [points, setPoints] = useState<MetricPoint[]>([]);
  const [live, setLive] = useState(false);
  useEffect(() => {
    const stream = new EventSource('/console/api/stream');
    stream.onopen = () => setLive(true);
    stream.onerror = () => {
      setLive(false);
      // Signed out elsewhere (or the console session expired): back to the sign-in page.
      api('me').catch((failure: unknown) => failure instanceof ApiError && failure.status === 401 && onSignedOut());
    };
    stream.addEventListener('sessions', (event) => setSessions(JSON.parse((event as MessageEvent<string>).data) as SessionRow[]));
    stream.addEventListener('approvals', (event) => setWaiting(JSON.parse((event as MessageEvent<string>).data) as Approval[]));
    stream.addEventListener('metrics', (event) => setPoints(JSON.parse((event as MessageEvent<string>).data) as MetricPoint[]));
    stream.addEventListener('point', (event) =>
      setPoints((before) => [...before, JSON.parse((event as MessageEvent<string>).data) as MetricPoint].slice(-360)),
    );
    stream.addEventListener('event', (event) => {
      const audit = JSON.parse((event as MessageEvent<string>).data) as AuditEvent;
      if (audit.event === 'request') setTail((before) => [...before, audit].slice(-TAIL));
    });
    return () => stream.close();
  }, []);
  const signOut = async (): Promise<void> => {
    await api('sign-out', { method: 'POST' }).catch(() => undefined);
    onSignedOut();
  };
  const detail = /^#\/sessions\/(.+)$/.exec(route)?.[1];
  return (
    <>
      <header>
        <h1>Sessiongate console</h1>
        <nav aria-label="Views">
          <a href="#/sessions" aria-current={route === '#/sessions' ? 'page' : undefined}>
            Sessions
          </a>
          <a href="#/approvals" aria-current={route === '#/approvals' ? 'page' : undefined} class={waiting.length > 0 ? 'waiting' : ''}>
            Approvals ({waiting.length})
          </a>
          <a href="#/tail" aria-current={route === '#/tail' ? 'page' : undefined}>
            Live tail
          </a>
          <a href="#/charts" aria-current={route === '#/charts' ? 'page' : undefined}>
            Charts
          </a>
          {pinned ? (
            <a href="#/tools" aria-current={route === '#/tools' ? 'page' : undefined}>
              Tool changes
            </a>
          ) : null}
          {people.grants || people.connections ? (
            <a href="#/grants" aria-current={route === '#/grants' ? 'page' : undefined}>
              Grants
            </a>
          ) : null}
        </nav>
        <span class={live ? 'live' : 'offline'} role="status">
          {live ? 'live' : 'reconnecting'}
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main>
        {detail !== undefined ? (
          <SessionDetail id={decodeURIComponent(detail)} tail={tail} />
        ) : route === '#/approvals' ? (
          <Approvals calls={waiting} sessions={sessions} />
        ) : route === '#/tail' ? (
          <LiveTail tail={tail} />
        ) : route === '#/charts' ? (
          <Charts points={points} />
        ) : route === '#/tools' ? (
          <ToolChanges />
        ) : route === '#/grants' ? (
          <Grants views={people} />
        ) : (
          <Sessions sessions={sessions} />
        )}
      </main>
    </>
  );
}
