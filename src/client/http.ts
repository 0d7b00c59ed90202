/**
 * @module client/http
 * HTTP for the client: undici's `request` over a keep-alive Agent (cheaper per request than
 * fetch). Network failures become SG_CLIENT_CONNECTION.
 */
import { Agent, type Dispatcher, request } from 'undici';
import { SessionClientError } from './errors.js';

export type Body = Dispatcher.ResponseData['body'];

export interface HttpAnswer {
  status: number;
  header(name: string): string | undefined;
  body: Body;
}

let shared: Agent | undefined;

/** One keep-alive pool per process unless the caller brings a dispatcher. */
export function sharedAgent(): Agent {
  shared ??= new Agent({ keepAliveTimeout: 4_000, connections: 128 });
  return shared;
}

export async function send(
  url: URL,
  method: 'GET' | 'POST' | 'DELETE',
  headers: Record<string, string>,
  options: { body?: string; signal?: AbortSignal; dispatcher?: Dispatcher } = {},
): Promise<HttpAnswer> {
  try {
    const answer = await request(url, {
      method,
      headers,
      body: options.body,
      signal: options.signal,
      dispatcher: options.dispatcher ?? sharedAgent(),
    });
    return {
      status: answer.statusCode,
      header(name) {
        const value = answer.headers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      },
      body: answer.body,
    };
  } catch (cause) {
    throw new SessionClientError('SG_CLIENT_CONNECTION', `${method} failed`, { cause });
  }
}
