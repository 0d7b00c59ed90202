/**
 * A real OpenID provider on loopback for sign-in tests: `oidc-provider` (the certified Node
 * implementation) with its own login and consent forms (its development interactions), people
 * whose claims the test sets, and one confidential client: the gateway. Its port is taken
 * before the provider is made, since the provider must know its own issuer, while the
 * gateway's callback (the client's redirect URI) is known only once the gateway listens.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface OpenIdProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Claims of each person by login name (their subject is the login name); `disabled: true` makes them unknown. */
  people: Map<string, Record<string, unknown>>;
  /** Serves, with the gateway's callback as one more of the client's redirect URIs. */
  serve(redirectUri: string): void;
  close(): Promise<void>;
}

export async function startOpenIdProvider(): Promise<OpenIdProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const people = new Map<string, Record<string, unknown>>();
  const clientId = 'sessiongate';
  const clientSecret = 'gateway-secret-0123456789abcdef';
  const redirectUris: string[] = [];
  let serving: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => (serving ? serving(req, res) : res.writeHead(503).end()));
  return {
    issuer,
    clientId,
    clientSecret,
    people,
    serve(redirectUri) {
      redirectUris.push(redirectUri);
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [...redirectUris],
            grant_types: ['authorization_code', 'refresh_token'],
          },
        ],
        pkce: { required: () => true },
        claims: { openid: ['sub'], email: ['email'], profile: ['name', 'groups'] },
        conformIdTokenClaims: false,
        // A person marked `disabled` is unknown to the provider from then on (its refresh refused).
        findAccount: (_ctx, id) =>
          people.get(id)?.['disabled'] === true ? undefined : { accountId: id, claims: () => ({ sub: id, ...(people.get(id) ?? {}) }) },
        cookies: { keys: ['test-cookie-key-0123456789'] },
        ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
      });
      const handle = provider.callback();
      serving = (req, res) => void handle(req, res);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
