/**
 * What a person allowed the gateway's clients (`--auth oauth`): looked up by issuer and subject,
 * each client with its scopes, when it was allowed, how many signed-in grants it holds, and
 * Withdraw, which ends them at the next request (docs/AUTH.md, "Withdrawing access").
 */
import { useState } from 'preact/hooks';
import { api } from './api.js';

interface ClientGrant {
  clientId: string;
  clientName?: string;
  scope: string[];
  consentedAt?: number;
  families: string[];
}

export function Grants() {
  const [person, setPerson] = useState<{ issuer: string; subject: string } | undefined>(undefined);
  const [grants, setGrants] = useState<ClientGrant[] | undefined>(undefined);
  const [message, setMessage] = useState('');
  const query = (who: { issuer: string; subject: string }): string =>
    `issuer=${encodeURIComponent(who.issuer)}&subject=${encodeURIComponent(who.subject)}`;
  const lookUp = async (who: { issuer: string; subject: string }): Promise<void> => {
    try {
      setGrants((await api<{ grants: ClientGrant[] }>(`grants?${query(who)}`)).grants);
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
    </section>
  );
}
