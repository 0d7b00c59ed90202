/**
 * @module gateway/authorization-server/browser-flow
 * The part of the authorization code flow a person's browser walks
 * (docs/AUTH.md, "Sign-in, consent, codes"): the client's authorization request is checked,
 * the person signs in at the identity provider, consents here to this client (the
 * specification's confused-deputy rule for a proxy with one static client id at the
 * provider), and the client gets a code.
 *
 * Each step is bound to the one before: the sign-in to the browser that started it (a cookie
 * whose hash the sign-in keeps, so a link to someone else's sign-in leads nowhere), the consent
 * form to that sign-in (a form token, and SameSite cookies), and a sign-in is used once. Until
 * the client's redirect URI is known to be its own, failures are shown to the person, never
 * sent to a URI a stranger chose (RFC 6749 section 4.1.2.1).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OAUTH_PATHS } from './as-metadata.js';
import { formBody, singleValued } from './form-body.js';
import type { AuthorizationRequest, ClientRecord, Person, SignIn } from './grant-records.js';
import { randomToken, sha256 } from './grant-records.js';
import { OAuthError } from './oauth-error.js';
import { startManaging } from './grants-page.js';
import { consentPage, errorPage } from './pages.js';
import { sealedFor } from './provider-recheck.js';
import { redirectUriMatches } from './redirect-uri.js';
import { clientFor, consentKey, personName, type ServerContext } from './server-context.js';

const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const MAX_STATE = 1024;

/** GET /oauth/authorize (RFC 6749 section 4.1.1, with PKCE and RFC 8707's resource). */
export async function authorize(context: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET') return void res.writeHead(405, { allow: 'GET' }).end();
  let query: Map<string, string>;
  let client: ClientRecord;
  let redirectUri: string;
  try {
    query = singleValued(new URL(req.url ?? '/', 'http://gateway').searchParams);
    const clientId = query.get('client_id');
    if (!clientId) throw new OAuthError('invalid_request', 'client_id is missing');
    client = await clientFor(context, clientId, req.socket.remoteAddress);
    redirectUri = query.get('redirect_uri') ?? (client.redirect_uris.length === 1 ? client.redirect_uris[0]! : '');
    if (!redirectUriMatches(redirectUri, client.redirect_uris))
      throw new OAuthError('invalid_redirect_uri', 'redirect_uri is not one the client registered');
  } catch (error) {
    return errorPage(res, 400, error instanceof OAuthError ? error.message : 'the authorization request could not be read');
  }
  const state = query.get('state');
  try {
    await sendToProvider(context, req, res, checkedRequest(context, query, client, redirectUri));
  } catch (error) {
    redirectWithError(context, res, redirectUri, state, error);
  }
}

/**
 * Keeps a sign-in for `request` (none: the person signs in to a page of their own, `returnTo`,
 * by default what they allowed) bound to this browser, and sends the browser to the identity
 * provider.
 */
export async function sendToProvider(
  context: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  request: AuthorizationRequest | undefined,
  returnTo?: string,
): Promise<void> {
  const browser = browserCookie(context, req) ?? randomToken(24);
  const id = randomToken(24);
  const signIn: SignIn = {
    request,
    ...(returnTo !== undefined && { returnTo }),
    browser: sha256(browser),
    formToken: randomToken(24),
    login: { nonce: randomToken(24), verifier: randomToken(48) },
  };
  await context.records.signIns.add(id, signIn, context.now() + context.lifetimes.signInMs);
  const to = await context.login.authorizationUrl(callbackUrl(context), id, signIn.login.nonce, signIn.login.verifier);
  res.writeHead(302, { location: to, 'set-cookie': cookie(context, browser), 'cache-control': 'no-store' }).end();
}

/** What the client asked for, checked; a thrown OAuthError goes back to its redirect URI. */
function checkedRequest(
  context: ServerContext,
  query: Map<string, string>,
  client: ClientRecord,
  redirectUri: string,
): AuthorizationRequest {
  const state = query.get('state');
  if (state !== undefined && state.length > MAX_STATE)
    throw new OAuthError('invalid_request', `state is longer than ${MAX_STATE} characters`);
  if (query.get('response_type') !== 'code') throw new OAuthError('unsupported_response_type', 'response_type must be code');
  const challenge = query.get('code_challenge');
  if (challenge === undefined) throw new OAuthError('invalid_request', 'code_challenge is missing: PKCE is required');
  if (query.get('code_challenge_method') !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
  if (!PKCE_CHALLENGE.test(challenge))
    throw new OAuthError('invalid_request', 'code_challenge is not an S256 challenge (43 base64url characters)');
  const { resource } = context.urls();
  const asked = query.get('resource');
  // RFC 8707: a token for another resource is not ours to issue.
  if (asked !== undefined && asked !== resource) throw new OAuthError('invalid_target', `this server issues tokens for ${resource} only`);
  return {
    clientId: client.client_id,
    redirectUri,
    state,
    codeChallenge: challenge,
    scope: grantedScope(context, query.get('scope')),
    resource,
  };
}

/** The scopes asked for that this resource knows; all it knows when none are asked for (RFC 6749 section 3.3). */
function grantedScope(context: ServerContext, asked: string | undefined): string[] {
  if (asked === undefined || asked.trim() === '') return [...context.scopes];
  const known = new Set(context.scopes);
  return [...new Set(asked.split(' ').filter((scope) => known.has(scope)))];
}

/** GET /oauth/callback: the identity provider sends the browser back with a code for the gateway. */
export async function loginCallback(context: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET') return void res.writeHead(405, { allow: 'GET' }).end();
  const query = new URL(req.url ?? '/', 'http://gateway').searchParams;
  const id = query.get('state') ?? '';
  const read = id.length <= 64 ? await context.records.signIns.read(id) : undefined;
  if (!read) return errorPage(res, 400, 'This sign-in is unknown or has expired.');
  const signIn = read.value;
  if (!sameBrowser(context, req, signIn)) return errorPage(res, 403, 'This sign-in was started in another browser.');
  const { request } = signIn;
  const code = query.get('code');
  let person: Person;
  let upstream: string | undefined;
  try {
    if (query.has('error') || code === null)
      throw new OAuthError('access_denied', `the identity provider refused the sign-in (${query.get('error') ?? 'no code'})`);
    const signedIn = await context.login.signIn(code, callbackUrl(context), signIn.login.nonce, signIn.login.verifier);
    person = signedIn.person;
    upstream = signedIn.refreshToken && context.sealer?.seal(signedIn.refreshToken, sealedFor(person));
  } catch (error) {
    await context.records.signIns.replace(id, read, undefined, 0);
    if (!request) return errorPage(res, 403, error instanceof OAuthError ? error.message : 'The sign-in failed.');
    return redirectWithError(context, res, request.redirectUri, request.state, error);
  }
  if (!request) {
    // Signed in to see what they allowed (grants-page.ts), not for a client.
    if (!(await context.records.signIns.replace(id, read, undefined, 0))) return errorPage(res, 400, 'This sign-in was completed already.');
    return startManaging(context, res, signIn.browser, person, signIn.returnTo);
  }
  context.events.write({ event: 'oauth', action: 'sign-in', client: request.clientId, person: personName(person) });
  const remembered = await context.records.consents.get(consentKey(person, request.clientId));
  if (remembered && request.scope.every((scope) => remembered.scope.includes(scope))) {
    if (!(await context.records.signIns.replace(id, read, undefined, 0))) return errorPage(res, 400, 'This sign-in was completed already.');
    return redirectWithCode(context, res, request, person, upstream);
  }
  const next: SignIn = { ...signIn, person, ...(upstream !== undefined && { upstream }) };
  if (!(await context.records.signIns.replace(id, read, next, context.now() + context.lifetimes.signInMs)))
    return errorPage(res, 400, 'This sign-in was completed already.');
  res.writeHead(303, { location: `${OAUTH_PATHS.consent}?sign_in=${encodeURIComponent(id)}`, 'cache-control': 'no-store' }).end();
}

/** GET /oauth/consent shows the question; POST answers it. */
export async function consent(context: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET') return showConsent(context, req, res);
  if (req.method !== 'POST') return void res.writeHead(405, { allow: 'GET, POST' }).end();
  let form: Map<string, string>;
  try {
    form = await formBody(req);
  } catch (error) {
    return errorPage(res, 400, (error as Error).message);
  }
  const id = form.get('sign_in') ?? '';
  const read = id.length <= 64 ? await context.records.signIns.read(id) : undefined;
  const signIn = read?.value;
  if (!read || !signIn?.person || !signIn.request) return errorPage(res, 400, 'This sign-in is unknown or has expired.');
  if (!sameBrowser(context, req, signIn) || !sameSecret(form.get('form_token') ?? '', signIn.formToken))
    return errorPage(res, 403, 'This answer does not come from the page that asked.');
  // Used once: a second submission (or a replica racing) finds it gone.
  if (!(await context.records.signIns.replace(id, read, undefined, 0))) return errorPage(res, 400, 'This sign-in was completed already.');
  const { request, person } = { request: signIn.request, person: signIn.person };
  // A client no longer known (its registration expired meanwhile) gets no consent recorded.
  const client = await clientFor(context, request.clientId).catch(() => undefined);
  if (!client) return errorPage(res, 400, 'The client that asked is no longer known.');
  if (form.get('decision') !== 'allow') {
    context.events.write({ event: 'oauth', action: 'consent.refused', client: request.clientId, person: personName(person) });
    return redirectWithError(
      context,
      res,
      request.redirectUri,
      request.state,
      new OAuthError('access_denied', 'the person did not allow access'),
    );
  }
  const key = consentKey(person, request.clientId);
  await context.records.consents.remove(key);
  await context.records.consents.add(key, { scope: request.scope, at: context.now() }, context.now() + context.lifetimes.consentMs);
  await context.people.consented(person, client, request.scope);
  context.events.write({ event: 'oauth', action: 'consent.granted', client: request.clientId, person: personName(person) });
  return redirectWithCode(context, res, request, person, signIn.upstream);
}

async function showConsent(context: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const id = new URL(req.url ?? '/', 'http://gateway').searchParams.get('sign_in') ?? '';
  const signIn = id.length <= 64 ? await context.records.signIns.get(id) : undefined;
  if (!signIn?.person || !signIn.request) return errorPage(res, 400, 'This sign-in is unknown or has expired.');
  if (!sameBrowser(context, req, signIn)) return errorPage(res, 403, 'This sign-in was started in another browser.');
  const client = await clientFor(context, signIn.request.clientId).catch(() => undefined);
  if (!client) return errorPage(res, 400, 'The client that asked is no longer known.');
  consentPage(res, {
    signIn: id,
    formToken: signIn.formToken,
    clientName: client.client_name ?? client.client_id,
    clientId: client.client_id,
    logoUri: client.logo_uri,
    redirectHost: redirectHost(signIn.request.redirectUri),
    scopes: signIn.request.scope,
    person: personName(signIn.person),
    resource: signIn.request.resource,
  });
}

/** A code for the request, sent to the client's redirect URI with its state and our issuer (RFC 9207). */
async function redirectWithCode(
  context: ServerContext,
  res: ServerResponse,
  request: AuthorizationRequest,
  person: Person,
  upstream: string | undefined,
): Promise<void> {
  const code = randomToken(32);
  await context.records.codes.add(
    sha256(code),
    { request, person, ...(upstream !== undefined && { upstream }) },
    context.now() + context.lifetimes.codeMs,
  );
  redirectTo(context, res, request.redirectUri, request.state, { code });
}

function redirectWithError(
  context: ServerContext,
  res: ServerResponse,
  redirectUri: string,
  state: string | undefined,
  error: unknown,
): void {
  const failure = error instanceof OAuthError ? error : new OAuthError('server_error', 'the authorization server failed');
  redirectTo(context, res, redirectUri, state, { error: failure.error, error_description: failure.message });
}

function redirectTo(
  context: ServerContext,
  res: ServerResponse,
  redirectUri: string,
  state: string | undefined,
  fields: Record<string, string>,
): void {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(fields)) url.searchParams.set(name, value);
  if (state !== undefined) url.searchParams.set('state', state);
  url.searchParams.set('iss', context.urls().issuer);
  res.writeHead(303, { location: url.href, 'cache-control': 'no-store' }).end();
}

export function callbackUrl(context: ServerContext): string {
  return `${context.urls().issuer}${OAUTH_PATHS.callback}`;
}

function redirectHost(uri: string): string {
  const url = new URL(uri);
  return url.host === '' ? `${url.protocol}//` : url.host;
}

/** The browser binding cookie: `__Host-` on https, so no subdomain can set it. */
function cookieName(context: ServerContext): string {
  return context.secureCookies() ? '__Host-sg_signin' : 'sg_signin';
}

export function cookie(context: ServerContext, value: string): string {
  const secure = context.secureCookies() ? '; Secure' : '';
  return `${cookieName(context)}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600${secure}`;
}

export function browserCookie(context: ServerContext, req: IncomingMessage): string | undefined {
  const wanted = cookieName(context);
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === wanted && value && /^[A-Za-z0-9_-]{32}$/.test(value)) return value;
  }
  return undefined;
}

function sameBrowser(context: ServerContext, req: IncomingMessage, signIn: SignIn): boolean {
  const value = browserCookie(context, req);
  return value !== undefined && sameSecret(sha256(value), signIn.browser);
}

export function sameSecret(a: string, b: string): boolean {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}
