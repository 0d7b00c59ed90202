// sessiongate's gateway in front of the upstream at $UPSTREAM (memory store), with
// `jwtAuthenticator` over the key set in $JWKS when it is set (bench/auth.bench.js), or
// `apiKeyAuthenticator` for the one key whose hash is $API_KEY_SHA256, else with the default (a
// keyed hash of the raw Authorization header, what `--auth none` does). With $EXCHANGE_URL,
// each caller's token is exchanged there for an upstream token, as --upstream-token-exchange does.
// With $OAUTH_TOKEN_FILE, the gateway is the authorization server of `--auth oauth`
// (authorizationServer on a memory store): it mints one access token of its own for a person
// and writes it to that file, and checks each request as --auth oauth does (the token's
// signature once, its grant's family in the store every time).
// With $CREDENTIALS, each person's own upstream token is sent (CredentialBroker and its stage,
// as --upstream-credentials oauth does), the person's connection made beforehand in a memory
// store's vault; $STATIC_AUTHORIZATION sends one fixed Authorization instead (--upstream-header).
// With $POLICY (a policy document as JSON), calls pass policyGate first, as --policy does.
// With $AUDIT (a file), every request is written to the hash-chained audit log, as --audit
// does; with $AUDIT_WATCHED too, a console's live tail is watching (events as SSE frames,
// written out in batches by the console's own batchedFrames).
import { createWriteStream, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { serveStats, ready } from './ipc.js';

// BASELINE_DIST runs another build (bench/trust.bench.js); the request hygiene step is added when the build has one.
const dist = process.env.BASELINE_DIST ?? new URL('../../dist', import.meta.url).pathname;
const { httpUpstream } = await import(`${dist}/gateway/index.js`);
const { createSessionServer } = await import(`${dist}/server/index.js`);
const { jwtAuthenticator, apiKeyAuthenticator } = await import(`${dist}/auth/index.js`);
const { TokenExchange } = await import(`${dist}/auth/token-exchange.js`);
const { withUpstreamTokens } = await import(`${dist}/gateway/upstreams/http/upstream-tokens.js`);
const { compilePolicy, policyGate } = await import(`${dist}/policy/index.js`);

const env = process.env;
const authenticate = env.OAUTH_TOKEN_FILE
  ? await oauthAuthenticator(env.OAUTH_TOKEN_FILE)
  : env.JWKS
    ? jwtAuthenticator({
        jwks: JSON.parse(env.JWKS),
        issuers: [env.ISSUER],
        audiences: [env.AUDIENCE],
        resourceMetadataUrl: 'http://127.0.0.1/.well-known/oauth-protected-resource/mcp',
      })
    : env.API_KEY_SHA256
      ? apiKeyAuthenticator({ keys: [{ name: 'bench', sha256: env.API_KEY_SHA256 }] })
      : (request) => request.header('authorization');
const exchange = env.EXCHANGE_URL
  ? new TokenExchange({ url: env.EXCHANGE_URL, clientId: 'gateway', clientSecret: 'secret', audience: env.UPSTREAM })
  : undefined;
const broker = env.CREDENTIALS ? await connectedBroker(env.UPSTREAM) : undefined;
const upstream = httpUpstream({
  url: env.UPSTREAM,
  ...(exchange && { upstreamAuthorization: (context) => exchange.authorization(context.principal ?? '') }),
  ...(broker && { upstreamAuthorization: (context) => broker.authorization(context.identity) }),
  ...(env.STATIC_AUTHORIZATION && { upstreamHeaders: { authorization: env.STATIC_AUTHORIZATION } }),
});
const { compose } = await import(`${dist}/server/stage.js`);
const tokened = exchange
  ? withUpstreamTokens(upstream, exchange)
  : broker
    ? compose(upstream, [
        (await import(`${dist}/gateway/credentials/credential-stage.js`)).credentialStage(
          new (await import(`${dist}/gateway/credentials/connections.js`)).Connections(broker),
        ),
      ])
    : upstream;
const policy = env.POLICY ? compilePolicy(JSON.parse(env.POLICY)) : undefined;
const gated = policy ? policyGate(tokened, { policy: () => policy }) : tokened;
const { audited, fanout, AuditLog } = await import(`${dist}/gateway/index.js`);
const { ConsoleFeed, batchedFrames } = await import(`${dist}/gateway/console/console-feed.js`);
const feed = new ConsoleFeed();
if (env.AUDIT_WATCHED) {
  const tail = createWriteStream('/dev/null');
  feed.watch(batchedFrames((frames) => tail.write(frames)).watcher);
}
// AUDIT=discard: the audit decorator with a sink that drops every event (what the log adds is the rest).
// AUDIT_PLAIN: one unchained JSON line per event straight to a file stream (what --audit wrote before the chain).
const plain = (path) => {
  const out = createWriteStream(path, { flags: 'a' });
  return { write: (event) => out.write(JSON.stringify({ time: new Date().toISOString(), ...event }) + '\n') };
};
const sink =
  env.AUDIT === 'discard'
    ? { write() {} }
    : env.AUDIT_PLAIN
      ? plain(env.AUDIT_PLAIN)
      : env.AUDIT
        ? new AuditLog(env.AUDIT, { replica: 'bench' })
        : undefined;
const observed = sink ? audited(gated, fanout(sink, feed)) : gated;
const hygiene = await import(`${dist}/gateway/stages/hygiene.js`).catch(() => undefined);
const application = hygiene ? hygiene.hygienic(observed) : observed;
const sessions = createSessionServer({ application, authenticate });
const server = createServer((req, res) => void sessions.node(req, res));
serveStats();
server.listen(0, '127.0.0.1', () => ready(server));

/** --auth oauth's authenticator, and a token it issued written to `file`. */
async function oauthAuthenticator(file) {
  const { authorizationServer } = await import(`${dist}/gateway/index.js`);
  const { MemoryStore } = await import(`${dist}/index.js`);
  const { GrantRecords } = await import(`${dist}/gateway/authorization-server/grant-records.js`);
  const { IssuedTokens } = await import(`${dist}/gateway/authorization-server/issued-tokens.js`);
  const { SigningKeys } = await import(`${dist}/gateway/authorization-server/signing-keys.js`);
  const store = new MemoryStore();
  const resource = process.env.AUDIENCE;
  const auth = authorizationServer({
    login: { issuer: 'https://idp.example.com', clientId: 'gateway', clientSecret: 'secret' },
    publicUrl: resource,
  });
  auth.attach(store, { write() {} });
  auth.listening(resource);
  const week = 7 * 86_400_000;
  const tokens = new IssuedTokens(
    new GrantRecords(store.grants, Date.now),
    new SigningKeys(store.secrets, week),
    { accessMs: 3_600_000, familyMs: 86_400_000 },
    () => new URL(resource).origin,
    Date.now,
  );
  const request = {
    clientId: 'sgc_bench',
    redirectUri: 'http://127.0.0.1:9/cb',
    state: undefined,
    codeChallenge: 'x',
    scope: ['mcp'],
    resource,
  };
  const person = {
    issuer: 'https://idp.example.com',
    subject: 'alice',
    claims: { sub: 'alice', email: 'alice@example.com', groups: ['eng'] },
  };
  const { answer } = await tokens.startFamily(request, person, 'bench-family');
  writeFileSync(file, answer.access_token);
  return auth.authenticate;
}

/** --upstream-credentials oauth's broker on a memory store, alice (as jwt names her) connected. */
async function connectedBroker(resource) {
  const { CredentialBroker } = await import(`${dist}/gateway/index.js`);
  const { MemoryStore } = await import(`${dist}/index.js`);
  const store = new MemoryStore();
  const credentials = new CredentialBroker({ resource, secretsKey: 'ab'.repeat(32) });
  credentials.attach(store, { write() {} });
  credentials.listening('http://127.0.0.1');
  await credentials.checkKey();
  const principal = JSON.stringify([env.ISSUER, 'alice']);
  await credentials.connect(principal, 'alice', { accessToken: 'alice-upstream-token', expiresAt: Date.now() + 86_400_000 });
  return credentials;
}
