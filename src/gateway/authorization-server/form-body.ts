/**
 * @module gateway/authorization-server/form-body
 * The bodies the authorization server reads: a form (RFC 6749 appendix B) or, for registration,
 * JSON; each bounded, each parameter present at most once (RFC 6749 section 3.1), and a body of
 * another media type refused.
 */
import type { IncomingMessage } from 'node:http';
import { BodyLimit, readChunks } from '../../server/body.js';
import { OAuthError } from './oauth-error.js';

const MAX_BODY = 8192;

export async function formBody(req: IncomingMessage): Promise<Map<string, string>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded')
    throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  return singleValued(new URLSearchParams(await bodyText(req)));
}

export async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new OAuthError('invalid_client_metadata', 'the body must be application/json');
  try {
    return JSON.parse(await bodyText(req));
  } catch (error) {
    if (error instanceof OAuthError) throw error;
    throw new OAuthError('invalid_client_metadata', 'the body is not JSON');
  }
}

/** Parameters of a query or form, each at most once. */
export function singleValued(parameters: URLSearchParams): Map<string, string> {
  const values = new Map<string, string>();
  for (const [name, value] of parameters) {
    if (values.has(name)) throw new OAuthError('invalid_request', `parameter ${name} is given more than once`);
    values.set(name, value);
  }
  return values;
}

async function bodyText(req: IncomingMessage): Promise<string> {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(await readChunks(req, new BodyLimit(MAX_BODY)));
  } catch {
    throw new OAuthError('invalid_request', `the body must be UTF-8 of at most ${MAX_BODY} bytes`);
  }
}
