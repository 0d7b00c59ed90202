/**
 * `createGateway`'s `credentials` option, checked before anything is built (in process): one
 * broker for one upstream, a federation's each named as one of its servers, no two for the
 * same server, never without people signing in, never beside token exchange.
 */
import { describe, expect, it } from 'vitest';
import { createGateway, CredentialBroker, federation, type GatewayAuth } from '../src/gateway/index.js';
import { MemoryStore } from '../src/index.js';
import { demoApp } from './helpers/test-server.js';

const secretsKey = 'ab'.repeat(32);
const broker = (server: string): CredentialBroker =>
  new CredentialBroker({ resource: `http://127.0.0.1:1/${server}/mcp`, server, secretsKey });
/** An auth that says people sign in in a browser (what the option needs; nothing here is served). */
const signingIn = { authenticate: () => undefined, browser: { signedIn: async () => undefined, signIn: async () => {} } } as GatewayAuth;
const federated = federation({
  servers: ['tracker', 'drive'].map((name) => ({ name, app: demoApp(), probe: async () => ({}), target: name })),
});

const built =
  (options: Partial<Parameters<typeof createGateway>[0]>): (() => unknown) =>
  () =>
    createGateway({ upstream: demoApp(), store: new MemoryStore(), auth: signingIn, ...options });

describe('the credentials option', () => {
  it('is refused without an auth that signs people in', () => {
    expect(built({ auth: { authenticate: () => undefined }, credentials: broker('tracker') })).toThrow(
      /needs an auth that signs people in/,
    );
  });

  it('takes one broker for one upstream', () => {
    expect(built({ credentials: [broker('tracker'), broker('drive')] })).toThrow(/takes one broker for one upstream/);
  });

  it("takes a federation's brokers each named as one of its servers, once", async () => {
    expect(built({ upstream: federated, federation: federated, credentials: [broker('tracker'), broker('mail')] })).toThrow(
      /names "mail", which is not a server of the federation/,
    );
    expect(built({ upstream: federated, federation: federated, credentials: [broker('tracker'), broker('tracker')] })).toThrow(
      /names a server twice/,
    );
    const gateway = createGateway({
      upstream: federated,
      federation: federated,
      store: new MemoryStore(),
      auth: signingIn,
      credentials: [broker('tracker'), broker('drive')],
    });
    await gateway.close({ graceMs: 0 });
  });
});
