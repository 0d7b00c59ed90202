/** The sign-in page: the admin token, nothing else; a wrong one says so and reveals nothing. */
import { useState } from 'preact/hooks';
import { api } from './api.js';

export function SignIn({ onSignedIn }: { onSignedIn: (csrf: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      const { csrf } = await api<{ csrf: string }>('sign-in', { method: 'POST', body: { token } });
      onSignedIn(csrf);
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
      setToken('');
    }
  };
  return (
    <main class="sign-in">
      <h1>Sessiongate console</h1>
      <form onSubmit={(event) => void submit(event)}>
        <label for="admin-token">Admin token</label>
        <input
          id="admin-token"
          type="password"
          autocomplete="current-password"
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
