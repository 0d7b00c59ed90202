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
  const [issuer, setIssuer] = useState('');
  const [subject, setSubject] = useState('');
  const [grants, setGrants] = useState<ClientGrant[] | undefined>(undefined);
  const [message, setMessage] = useState('');
  const person = (): string => `issuer=${encodeURIComponent(issuer)}&subject=${encodeURIComponent(subject)}`;
  const lookUp = async (): Promise<void> => {
    try {
      setGrants((await api<{ grants: ClientGrant[] }>(`grants?${person()}`)).grants);
      setMessage('');
    } catch (failure) {
      setMessage((failure as Error).message);
    }
  };
  const withdraw = async (grant: ClientGrant): Promise<void> => {
    try {
      await api(`grants/${encodeURIComponent(grant.clientId)}?${person()}`, { method: 'DELETE' });
      setMessage(`Access of ${grant.clientName ?? grant.clientId} withdrawn.`);
      await lookUp();
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
          void lookUp();
        }}
      >
        <label>
          Issuer <input name="issuer" value={issuer} onInput={(event) => setIssuer(event.currentTarget.value)} />
        </label>
        <label>
          Subject <input name="subject" value={subject} onInput={(event) => setSubject(event.currentTarget.value)} />
        </label>
        <button type="submit">Look up</button>
      </form>
      <p role="status" class="status">
        {message}
      </p>
      {grants === undefined ? null : grants.length === 0 ? (
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
              <button type="button" onClick={() => void withdraw(grant)}>
                Withdraw access of {grant.clientName ?? grant.clientId}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
