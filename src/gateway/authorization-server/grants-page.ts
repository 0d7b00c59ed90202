/**
 * @module gateway/authorization-server/grants-page
 * `/oauth/grants`: a person sees which clients they allowed and withdraws any of them (docs/AUTH.md,
 * "Withdrawing access"). To see it they sign in at the identity provider, as for a client, and
 * the page is then bound to this browser for 15 minutes (the sign-in cookie's hash, as the
 * consent is); a withdrawal must come from the page, with its form token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OAUTH_PATHS } from './as-metadata.js';
import { browserCookie, sameSecret, sendToProvider } from './browser-flow.js';
import { formBody } from './form-body.js';
import type { Person } from './grant-records.js';
import { randomToken, sha256 } from './grant-records.js';
import { errorPage, grantsPage } from './pages.js';
import { personName, type ServerContext } from './server-context.js';

const MANAGING_MS = 15 * 60_000;

/** GET shows what the signed-in person allowed (signing them in first); POST withdraws one client. */
export async function grantsEndpoint(context: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'POST') return void res.writeHead(405, { allow: 'GET, POST' }).end();
  const browser = browserCookie(context, req);
  const manager = browser === undefined ? undefined : await context.records.managers.get(sha256(browser));
  if (req.method === 'GET') {
    if (!manager) return sendToProvider(context, req, res, undefined);
    const grants = await context.people.list(manager.person);
    return grantsPage(res, { person: personName(manager.person), formToken: manager.formToken, grants });
  }
  let form: Map<string, string>;
  try {
    form = await formBody(req);
  } catch (error) {
    return errorPage(res, 400, (error as Error).message);
  }
  if (!manager || !sameSecret(form.get('form_token') ?? '', manager.formToken))
    return errorPage(res, 403, 'This answer does not come from the page that asked.');
  const clientId = form.get('client_id') ?? '';
  if (await context.people.withdraw(manager.person, clientId))
    context.events.write({
      event: 'oauth',
      action: 'consent.withdrawn',
      client: clientId,
      person: personName(manager.person),
      by: 'person',
    });
  res.writeHead(303, { location: OAUTH_PATHS.grants, 'cache-control': 'no-store' }).end();
}

/**
 * After the identity provider's callback for a sign-in to a page of the person's own: this
 * browser may see their pages for a while (this one, their connections: browser-people.ts).
 */
export async function startManaging(
  context: ServerContext,
  res: ServerResponse,
  browser: string,
  person: Person,
  returnTo: string = OAUTH_PATHS.grants,
): Promise<void> {
  await context.records.managers.remove(browser);
  await context.records.managers.add(browser, { person, formToken: randomToken(24) }, context.now() + MANAGING_MS);
  // Only a path of this gateway (the sign-in was started here with it): never another origin.
  const location = /^\/(?![/\\])/.test(returnTo) ? returnTo : OAUTH_PATHS.grants;
  res.writeHead(303, { location, 'cache-control': 'no-store' }).end();
}
