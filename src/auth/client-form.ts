/**
 * @module auth/client-form
 * How this resource talks to its authorization server as a confidential client: a form POST
 * (RFC 6749, section 2.3.1: HTTP Basic with the client id and secret, each form-encoded first),
 * a bounded wait, and a JSON object back. Introspection (RFC 7662) and token exchange (RFC
 * 8693) both use it.
 */
import { request as httpRequest } from 'undici';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

export interface FormAnswer {
  status: number;
  /** The answer's JSON object; undefined when it was not one. */
  body: Record<string, unknown> | undefined;
}

/** The `Authorization` value of a client authenticating with its secret. */
export function basicClientAuth({ clientId, clientSecret }: ClientCredentials): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
}

/** POSTs `form`; rejects only when the server cannot be reached or does not answer in time. */
export async function postForm(
  url: string | URL,
  form: Record<string, string>,
  authorization: string,
  timeoutMs: number,
): Promise<FormAnswer> {
  const answer = await httpRequest(url, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const body: unknown = await answer.body.json().catch(() => undefined);
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  return { status: answer.statusCode, body: isObject ? (body as Record<string, unknown>) : undefined };
}
