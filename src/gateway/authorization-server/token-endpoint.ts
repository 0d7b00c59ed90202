/**
 * @module gateway/authorization-server/token-endpoint
 * POST /oauth/token (RFC 6749 section 3.2) and POST /oauth/revoke (RFC 7009). Clients are
 * public and prove themselves by PKCE: a code is redeemed once, by the client it was issued to,
 * with the redirect URI it was sent to and the verifier of its challenge; redeemed twice, the
 * grant it started is revoked (RFC 6749 section 4.1.2). Refresh tokens rotate on every use
 * (issued-tokens.ts).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formBody } from './form-body.js';
import { randomToken, sha256 } from './grant-records.js';
import { ProviderSignedOut, ReusedRefreshToken, type TokenAnswer } from './issued-tokens.js';
import { answerOAuthError, OAuthError } from './oauth-error.js';
import { personName, type ServerContext } from './server-context.js';

const PKCE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export async function tokenEndpoint(context: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const form = await publicClientForm(req);
    const clientId = required(form, 'client_id');
    const grantType = required(form, 'grant_type');
    const answer =
      grantType === 'authorization_code'
        ? await redeemCode(context, form, clientId)
        : grantType === 'refresh_token'
          ? await refresh(context, form, clientId)
          : undefined;
    if (!answer) throw new OAuthError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache' }).end(JSON.stringify(answer));
  } catch (error) {
    answerOAuthError(res, error);
  }
}

export async function revocationEndpoint(context: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const form = await publicClientForm(req);
    const family = await context.tokens.revoke(required(form, 'token'), form.get('client_id'));
    if (family)
      context.events.write({ event: 'oauth', action: 'token.revoked', client: family.clientId, person: personName(family.person) });
    // RFC 7009 section 2.2: answered 200 whether or not the token was known.
    res.writeHead(200, { 'cache-control': 'no-store' }).end();
  } catch (error) {
    answerOAuthError(res, error);
  }
}

async function redeemCode(context: ServerContext, form: Map<string, string>, clientId: string): Promise<TokenAnswer> {
  const [code, redirectUri, verifier] = [required(form, 'code'), required(form, 'redirect_uri'), required(form, 'code_verifier')];
  const key = sha256(code);
  const read = await context.records.codes.read(key);
  if (!read) throw new OAuthError('invalid_grant', 'the code is not known or has expired');
  const { request, person, redeemedBy, upstream } = read.value;
  if (redeemedBy !== undefined) {
    await context.tokens.endFamily(redeemedBy);
    context.events.write({ event: 'oauth', action: 'code.reused', client: request.clientId, person: personName(person) });
    throw new OAuthError('invalid_grant', 'the code was used before; the tokens it gave are revoked');
  }
  if (request.clientId !== clientId) throw new OAuthError('invalid_grant', 'the code was issued to another client');
  if (request.redirectUri !== redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri is not the one the code was sent to');
  const resource = form.get('resource');
  if (resource !== undefined && resource !== request.resource)
    throw new OAuthError('invalid_target', `the code is for ${request.resource}`);
  if (!PKCE_VERIFIER.test(verifier) || createHash('sha256').update(verifier).digest('base64url') !== request.codeChallenge)
    throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
  const familyId = randomToken(18);
  // Kept (as redeemed) until it would have expired, so a second redemption is recognised.
  if (!(await context.records.codes.replace(key, read, { ...read.value, redeemedBy: familyId }, context.now() + context.lifetimes.codeMs)))
    throw new OAuthError('invalid_grant', 'the code was used before');
  const { answer } = await context.tokens.startFamily(request, person, familyId, upstream);
  await context.people.granted(person, clientId, familyId);
  context.events.write({ event: 'oauth', action: 'token.issued', client: clientId, person: personName(person) });
  return answer;
}

async function refresh(context: ServerContext, form: Map<string, string>, clientId: string): Promise<TokenAnswer> {
  try {
    const asked = form.get('scope')?.split(' ').filter(Boolean);
    const { answer, family } = await context.tokens.refresh(required(form, 'refresh_token'), clientId, asked);
    context.events.write({ event: 'oauth', action: 'token.refreshed', client: clientId, person: personName(family.person) });
    return answer;
  } catch (error) {
    if (error instanceof ReusedRefreshToken)
      context.events.write({ event: 'oauth', action: 'refresh.reused', client: clientId, person: personName(error.family.person) });
    if (error instanceof ProviderSignedOut)
      context.events.write({ event: 'oauth', action: 'provider.signed-out', client: clientId, person: personName(error.family.person) });
    throw error;
  }
}

/** The form of a public client: one that sends its id and no secret (this server registers no other kind). */
async function publicClientForm(req: IncomingMessage): Promise<Map<string, string>> {
  if (req.method !== 'POST') throw new OAuthError('invalid_request', 'use POST', { allow: 'POST' });
  if (req.headers.authorization !== undefined)
    throw new OAuthError('invalid_client', 'clients of this server are public: send client_id in the form, no Authorization header');
  return formBody(req);
}

function required(form: Map<string, string>, name: string): string {
  const value = form.get(name);
  if (value === undefined || value === '') throw new OAuthError('invalid_request', `${name} is missing`);
  return value;
}
