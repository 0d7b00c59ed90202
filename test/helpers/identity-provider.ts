/**
 * A real identity provider for tests, on loopback: a JWKS endpoint (which a test can take down
 * and bring back, and add keys to), and tokens signed with keys `jose` generated for this run
 * (RS256 and ES256). What a provider would do, nothing mocked: the gateway fetches the keys over
 * HTTP as it would from any OIDC provider.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function signingKey(alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface IdentityProvider {
  issuer: string;
  jwksUri: string;
  /** Keys published in the JWKS (the first one signs by default). */
  keys: SigningKey[];
  /** false: the JWKS endpoint answers 503 (the provider is down). */
  up: boolean;
  /** JWKS fetches so far. */
  fetches: number;
  token(
    claims: { sub: string; aud: string; scope?: string } & JWTPayload,
    options?: { key?: SigningKey; expiresIn?: string | number },
  ): Promise<string>;
  close(): Promise<void>;
}

export async function startIdentityProvider(): Promise<IdentityProvider> {
  const first = await signingKey('RS256');
  const server: Server = createServer((req, res) => {
    if (req.url !== '/jwks') return void res.writeHead(404).end();
    provider.fetches++;
    if (!provider.up) return void res.writeHead(503).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: provider.keys.map((k) => k.publicJwk) }));
  });
  const provider: IdentityProvider = {
    issuer: '',
    jwksUri: '',
    keys: [first],
    up: true,
    fetches: 0,
    async token(claims, options = {}) {
      const key = options.key ?? provider.keys[0]!;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
        .setIssuer(provider.issuer)
        .setIssuedAt()
        .setJti(randomUUID())
        .setExpirationTime(options.expiresIn ?? '5m')
        .sign(key.privateKey);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider.issuer = base;
  provider.jwksUri = `${base}/jwks`;
  return provider;
}
