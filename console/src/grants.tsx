/**
 * What a person allowed the gateway's clients (`--auth oauth`): looked up by issuer and subject,
 * each client with its scopes, when it was allowed, how many signed-in grants it holds, and
 * Withdraw, which ends them at the next request (docs/AUTH.md, "Withdrawing access"); and the
 * servers they connected with their own credentials, with Disconnect (docs/CREDENTIALS.md,
 * "Disconnecting and the audit"). Never a token.
 */
import { useState } from 'preact/hooks';
import { api } from './api.js';

/** What the gateway has to show of a person: grants (it issues tokens), connections (it brokers credentials). */
export interface PeopleViews {
  grants: boolean;
  connections: boolean;
}

interface Connection {
  server: string;
  connectedAt: number;
  refreshedAt: number;
  expiresAt: number | null;
}

interface ClientGrant {
  clientId: string;
  clientName?: string;
  scope: string[];
  consentedAt?: number;
  families: string[];
}

export function Grants({ views }: { views: PeopleViews }) {
  const [person, setPerson] = useState<{ issuer: string; subject: string } | undefined>(undefined);
  const [grants, setGrants] = useState<ClientGrant[] | undefined>(undefined);
  const [connections, setConnections] = useState<Connection[] | undefined>(undefined);
  const [message, setMessage] = useState('');
  const query = (who: { issuer: string; subject: string }): string =>
    `issuer=${encodeURIComponent(who.issuer)}&subject=${encodeURIComponent(who.subject)}`;
  const lookUp = async (who: { issuer: string; subject: string }): Promise<void> => {
    try {
      setGrants(views.grants ? (await api<{ grants: ClientGrant[] }>(`grants?${query(who)}`)).grants : undefined);
      setConnections(views.connections ? (await api<{ connections: Connection[] }>(`connections?${query(who)}`)).connections : undefined);
      setPerson(who);
      setMessage('');
    } catch (failure) {
      setMessage((failure as Error).message);
    }
  };
  const withdraw = async (who: { issuer: string; subject: string }, grant: ClientGrant): Promise<void> => {
    try {
      await api(`grants/${encodeURIComponent(grant.clientId)}?${query(who)}`, { method: 'DELETE' });
      await lookUp(who);
      setMessage(`Access of ${grant.clientName ?? grant.clientId} withdrawn.`);
    } catch (failure) {
      setMessage((failure as Error).message);
    }
  };
  const disconnect = async (who: { issuer: string; subject: string }, connection: Connection): Promise<void> => {
    try {
      await api(`connections/${encodeURIComponent(connection.server)}?${query(who)}`, { method: 'DELETE' });
      await lookUp(who);
      setMessage(`${connection.server} disconnected.`);
    } catch (failure) {
      setMessage((failure as Error).message);
    }
  };
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  return (
    <section aria-labelledby="grants-title">
      <h2 id="grants-title">What a person allowed</h2>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          // Read from the form as submitted, not from state a render behind.
          const data = new FormData(event.currentTarget);
          const field = (name: string): string => {
            const value = data.get(name);
            return typeof value === 'string' ? value : '';
          };
          void lookUp({ issuer: field('issuer'), subject: field('subject') });
        }}
      >
        <label>
          Issuer <input name="issuer" />
        </label>
        <label>
          Subject <input name="subject" />
        </label>
        <button type="submit">Look up</button>
      </form>
      <p role="status" class="status">
        {message}
      </p>
      {grants === undefined || person === undefined ? null : grants.length === 0 ? (
        <p>No application allowed.</p>
      ) : (
        <ul class="approvals">
          {grants.map((grant) => (
            <li key={grant.clientId} data-client={grant.clientId}>
              <dl class="facts">
                <dt>Client</dt>
                <dd>{grant.clientName ?? grant.clientId}</dd>
                <dt>Client id</dt>
                <dd>{grant.clientId}</dd>
                <dt>Scopes</dt>
                <dd>{grant.scope.join(' ') || '-'}</dd>
                <dt>Allowed</dt>
                <dd>{grant.consentedAt === undefined ? '-' : new Date(grant.consentedAt).toISOString().slice(0, 10)}</dd>
                <dt>Signed-in grants</dt>
                <dd>{grant.families.length}</dd>
              </dl>
              <button type="button" onClick={() => void withdraw(person, grant)}>
                Withdraw access of {grant.clientName ?? grant.clientId}
              </button>
            </li>
          ))}
        </ul>
      )}
      {connections === undefined || person === undefined ? null : (
        <>
          <h3>Servers connected with their own account</h3>
          {connections.length === 0 ? (
            <p>No server connected.</p>
          ) : (
            <ul class="approvals">
              {connections.map((connection) => (
                <li key={connection.server} data-server={connection.server}>
                  <dl class="facts">
                    <dt>Server</dt>
                    <dd>{connection.server}</dd>
                    <dt>Connected</dt>
                    <dd>{day(connection.connectedAt)} UTC</dd>
                    <dt>Renewed</dt>
                    <dd>{day(connection.refreshedAt)} UTC</dd>
                  </dl>
                  <button type="button" onClick={() => void disconnect(person, connection)}>
                    Disconnect {connection.server}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
