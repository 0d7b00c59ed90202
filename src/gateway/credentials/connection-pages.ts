/**
 * @module gateway/credentials/connection-pages
 * The pages where a person connects an upstream server to their own account there, sees what
 * they connected and disconnects it (docs/CREDENTIALS.md, "Connecting"). Every page is the
 * signed-in person's own (browser-people.ts: they sign in at the identity provider first), so
 * a link someone else sent connects nothing of theirs: the connection is kept under whoever
 * signed in in this browser, and the authorization server's answer is taken only in the
 * browser, and for the person, that started it. Starting a connection is a form post from the
 * page (its form token), never a bare link: a page elsewhere cannot make a browser connect.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Routes } from '../../server/listen.js';
import type { BrowserPeople, BrowserPerson } from '../authorization-server/browser-people.js';
import { formBody } from '../authorization-server/form-body.js';
import { randomToken, RecordKind, sha256 } from '../authorization-server/grant-records.js';
import { escapeHtml, sendPage } from '../authorization-server/pages.js';
import { sameSecret } from '../authorization-server/browser-flow.js';
import { CONNECTIONS_PATHS, type CredentialBroker } from './credential-broker.js';
import type { Connections } from './connections.js';
import type { ConnectionSummary } from './vault.js';

/** A connection being authorized: of which server, whose, in which browser, and its PKCE verifier. */
interface PendingConnection {
  readonly server: string;
  readonly principal: string;
  readonly person: string;
  readonly browser: string;
  readonly verifier: string;
}

const PENDING_MS = 10 * 60_000;

/** What each page needs: the servers' brokers, who the browser is, and the connections under way. */
interface Pages {
  readonly connections: Connections;
  readonly people: BrowserPeople;
  readonly pending: RecordKind<PendingConnection>;
}

export function connectionRoutes(connections: Connections, people: BrowserPeople): Routes {
  // Made on first use: the brokers are given their store when the gateway is assembled.
  let pages: Pages | undefined;
  const at = (): Pages =>
    (pages ??= { connections, people, pending: new RecordKind(connections.brokers[0]!.parts.grants, 'connect:', Date.now) });
  return {
    [CONNECTIONS_PATHS.page]: (req, res) => listPage(at(), req, res),
    [CONNECTIONS_PATHS.connect]: (req, res) => connect(at(), req, res),
    [CONNECTIONS_PATHS.callback]: (req, res) => callback(at(), req, res),
    [CONNECTIONS_PATHS.client]: (req, res) => clientDocument(connections.brokers[0]!, req, res),
  };
}

/**
 * GET `/connections/client-metadata.json`: the gateway as an OAuth client of upstream servers'
 * authorization servers, described where its client id points (CIMD, MCP authorization
 * 2025-11-25): a public client (PKCE) sending people back to its callback. Only an https
 * gateway's is used as a client id; the server fetching it checks `client_id` is its URL.
 */
function clientDocument(broker: CredentialBroker, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
  const clientId = broker.documentUrl;
  if (clientId === undefined)
    return void res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: 'this gateway publishes its client metadata document only at an https public URL' }));
  const document = {
    client_id: clientId,
    client_name: 'Sessiongate',
    client_uri: new URL(clientId).origin,
    redirect_uris: [broker.callbackUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600' }).end(JSON.stringify(document));
}

/** The person signed in here, or undefined after sending the browser to sign in (back to `returnTo`). */
async function signedIn(pages: Pages, req: IncomingMessage, res: ServerResponse, returnTo: string): Promise<BrowserPerson | undefined> {
  const person = await pages.people.signedIn(req);
  if (person) return person;
  if (req.method === 'GET') await pages.people.signIn(req, res, returnTo);
  else failure(res, 403, 'Your sign-in on this page has expired. Open the page again.');
  return undefined;
}

/** A form posted from the person's own page (its form token), or undefined after refusing it. */
async function ownForm(req: IncomingMessage, res: ServerResponse, person: BrowserPerson): Promise<Map<string, string> | undefined> {
  const form = await formBody(req).catch(() => undefined);
  if (form && sameSecret(form.get('form_token') ?? '', person.formToken)) return form;
  failure(res, 403, 'This answer does not come from the page that asked.');
  return undefined;
}

/** GET `/connections`: what the person connected; POST: disconnects it. */
async function listPage(pages: Pages, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { connections } = pages;
  if (req.method !== 'GET' && req.method !== 'POST') return void res.writeHead(405, { allow: 'GET, POST' }).end();
  const person = await signedIn(pages, req, res, CONNECTIONS_PATHS.page);
  if (!person) return;
  if (req.method === 'GET') return connectionsPage(res, person, connections);
  const form = await ownForm(req, res, person);
  if (!form) return;
  await connections.broker(form.get('server'))?.disconnect(person.principal, 'person');
  res.writeHead(303, { location: CONNECTIONS_PATHS.page, 'cache-control': 'no-store' }).end();
}

/** GET `/connections/connect`: asks the person to confirm; POST: keeps their key, or sends them to the server's authorization server. */
async function connect(pages: Pages, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'POST') return void res.writeHead(405, { allow: 'GET, POST' }).end();
  const { connections } = pages;
  const named = new URL(req.url ?? '/', 'http://gateway').searchParams.get('server');
  // Without a name: the one server, when there is one.
  const server = named ?? (connections.servers.length === 1 ? connections.servers[0]! : '');
  const broker = connections.broker(server);
  if (!broker) return failure(res, 404, 'This gateway has no server of that name people connect.');
  const person = await signedIn(pages, req, res, `${CONNECTIONS_PATHS.connect}?server=${encodeURIComponent(server)}`);
  if (!person) return;
  const forbidden = broker.refusal(person);
  if (forbidden) return failure(res, 403, forbidden);
  if (req.method === 'GET') return connectPage(res, person, broker);
  const form = await ownForm(req, res, person);
  if (!form) return;
  if (broker.kind === 'secret') {
    const secret = (form.get('secret') ?? '').trim();
    // What a header can carry, nothing else: a key with a line break would be a header of its own.
    if (!/^[\x21-\x7e]{1,4096}$/.test(secret))
      return failure(res, 400, 'The key must be 1 to 4096 visible characters, without spaces or line breaks.');
    await broker.connect(person.principal, person.name, { accessToken: secret });
    return connectedPage(res, broker.server);
  }
  const [state, verifier] = [randomToken(24), randomToken(48)];
  const record: PendingConnection = { server, principal: person.principal, person: person.name, browser: person.browser, verifier };
  await pages.pending.add(sha256(state), record, Date.now() + PENDING_MS);
  let to: string;
  try {
    to = await broker.parts.oauth!.authorizationUrl(state, verifier); // `secret` answered above
  } catch (error) {
    return failure(res, 503, `${broker.server}'s authorization server cannot be reached: ${(error as Error).message}`);
  }
  res.writeHead(303, { location: to, 'cache-control': 'no-store' }).end();
}

/** GET `/connections/callback`: the server's authorization server's answer, taken once, in the browser and for the person that started it. */
async function callback({ connections, people, pending }: Pages, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET') return void res.writeHead(405, { allow: 'GET' }).end();
  const query = new URL(req.url ?? '/', 'http://gateway').searchParams;
  const state = query.get('state') ?? '';
  const read = state.length <= 64 ? await pending.read(sha256(state)) : undefined;
  // Used once, whatever happens next.
  if (!read || !(await pending.replace(sha256(state), read, undefined, 0)))
    return failure(res, 400, 'This connection is unknown, has expired, or was completed already.');
  const person = await people.signedIn(req);
  if (!person || !sameSecret(person.browser, read.value.browser) || person.principal !== read.value.principal)
    return failure(res, 403, 'This connection was started in another browser, or by someone else.');
  // The server it was started for (a reload may have removed it since).
  const broker = connections.broker(read.value.server);
  if (!broker) return failure(res, 404, 'This gateway no longer has that server.');
  // The policy may have changed since the connection started.
  const forbidden = broker.refusal(person);
  if (forbidden) return failure(res, 403, forbidden);
  const code = query.get('code');
  if (code === null || query.has('error'))
    return failure(res, 403, `${broker.server} did not authorize the connection (${query.get('error') ?? 'no code'}).`);
  const { oauth } = broker.parts;
  if (!oauth) return failure(res, 404, 'This server takes no OAuth connection.');
  try {
    if (!(await oauth.issuerMatches(query.get('iss')))) return failure(res, 403, 'The answer came from another authorization server.');
    await broker.connect(person.principal, person.name, await oauth.exchangeCode(code, read.value.verifier));
  } catch (error) {
    return failure(res, 502, `${broker.server} did not complete the connection: ${(error as Error).message}`);
  }
  connectedPage(res, broker.server);
}

async function connectionsPage(res: ServerResponse, person: BrowserPerson, connections: Connections): Promise<void> {
  const connected = new Map((await connections.list(person.principal)).map((connection) => [connection.server, connection]));
  const cards = connections.brokers.map((broker) => card(broker, connected.get(broker.server), person)).join('\n');
  sendPage(
    res,
    200,
    'Your connections',
    `<h1>Servers connected to your accounts</h1><p>Signed in as ${escapeHtml(person.name)}.</p><ul class="grants">${cards}</ul>`,
  );
}

/**
 * One server on the person's page: connected (and a button to disconnect), a link to connect,
 * or why the policy does not let them (a connection made before stays listed, to disconnect).
 */
function card(broker: CredentialBroker, connection: ConnectionSummary | undefined, person: BrowserPerson): string {
  const date = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  const name = broker.server;
  const server = escapeHtml(name);
  const forbidden = connection ? undefined : broker.refusal(person);
  if (forbidden) return `<li class="card"><p><strong>${server}</strong>: not available to you</p>\n<p>${escapeHtml(forbidden)}</p></li>`;
  return connection
    ? `<li class="card"><p><strong>${server}</strong>: connected</p>
<dl><dt>Connected</dt><dd>${date(connection.connectedAt)} UTC</dd><dt>Renewed</dt><dd>${date(connection.refreshedAt)} UTC</dd></dl>
<form method="post" action="${CONNECTIONS_PATHS.page}"><input type="hidden" name="server" value="${server}">
<input type="hidden" name="form_token" value="${escapeHtml(person.formToken)}">
<div class="actions"><button class="deny" type="submit">Disconnect ${server}</button></div></form></li>`
    : `<li class="card"><p><strong>${server}</strong>: not connected</p>
<p><a href="${CONNECTIONS_PATHS.connect}?server=${encodeURIComponent(name)}">Connect ${server}</a></p></li>`;
}

function connectPage(res: ServerResponse, person: BrowserPerson, broker: CredentialBroker): void {
  const { server } = broker;
  const name = escapeHtml(server);
  // A key is asked for on this page (never in the client); OAuth asks the server's own page.
  const how =
    broker.kind === 'secret'
      ? `<p>Calls you make to ${name} through this gateway will use your own key for it. It is kept sealed and sent only to ${name}.</p>
<p><label for="secret">Your key for ${name}</label><br><input id="secret" name="secret" type="password" autocomplete="off" required maxlength="4096"></p>`
      : `<p>Calls you make to ${name} through this gateway will act with your own account there. You will be asked there to allow it.</p>`;
  sendPage(
    res,
    200,
    `Connect ${server}`,
    `<h1>Connect ${name}</h1><div class="card"><p>Signed in as ${escapeHtml(person.name)}.</p>
<form method="post" action="${CONNECTIONS_PATHS.connect}?server=${encodeURIComponent(server)}">
${how}
<input type="hidden" name="form_token" value="${escapeHtml(person.formToken)}">
<div class="actions"><button class="allow" type="submit">Connect ${name}</button></div></form></div>`,
  );
}

function connectedPage(res: ServerResponse, server: string): void {
  sendPage(
    res,
    200,
    `${server} connected`,
    `<h1>${escapeHtml(server)} is connected</h1><div class="card"><p>Your calls to ${escapeHtml(server)} now act as you there.</p>
<p>Go back to your application and try again. <a href="${CONNECTIONS_PATHS.page}">Your connections</a></p></div>`,
  );
}

function failure(res: ServerResponse, status: number, message: string): void {
  sendPage(res, status, 'Connection failed', `<h1>This connection cannot go on</h1><div class="card"><p>${escapeHtml(message)}</p></div>`);
}
