/**
 * @module gateway/authorization-server/registration-endpoint
 * POST /oauth/register: Dynamic Client Registration (RFC 7591), for clients that offer no
 * metadata document. Anyone may register (that is what the protocol is for), so an address may
 * register only so many clients an hour (the store's shared buckets, so every replica counts
 * together), and a registration is kept for a bounded time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientRecord } from './client-metadata.js';
import { jsonBody } from './form-body.js';
import { randomToken } from './grant-records.js';
import { answerOAuthError, OAuthError } from './oauth-error.js';
import type { ServerContext } from './server-context.js';

const HOUR = 3_600_000;

export async function registrationEndpoint(context: ServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    if (req.method !== 'POST') throw new OAuthError('invalid_request', 'use POST', { allow: 'POST' });
    const address = req.socket.remoteAddress ?? 'unknown';
    const perHour = context.registrationsPerHour;
    const waitMs = await context.buckets.take(`oauth-register:${address}`, perHour, perHour / HOUR, context.now());
    if (waitMs > 0)
      throw new OAuthError('slow_down', `this address registered ${perHour} clients in the last hour`, {
        'retry-after': String(Math.ceil(waitMs / 1000)),
      });
    const metadata = await jsonBody(req);
    const client = clientRecord(`sgc_${randomToken(18)}`, metadata, 'dynamic');
    const now = context.now();
    await context.records.clients.add(client.client_id, client, now + context.lifetimes.registrationMs);
    context.events.write({ event: 'oauth', action: 'client.registered', client: client.client_id, person: null });
    const { registration: _how, ...published } = client;
    res.writeHead(201, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(
      JSON.stringify({
        ...published,
        client_id_issued_at: Math.floor(now / 1000),
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      }),
    );
  } catch (error) {
    answerOAuthError(res, error);
  }
}
