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
let sharedStreams: Agent | undefined;

/** One keep-alive pool per process unless the caller brings a dispatcher. */
export function sharedAgent(): Agent {
  shared ??= new Agent({ keepAliveTimeout: 4_000, connections: 128 });
  return shared;
}

/**
 * Long-lived streams (a session's GET stream, a `subscriptions/listen`) hold their connection
 * for as long as they last: in the request pool, 128 of them would leave requests waiting
 * forever (a gateway with 128 sessions stopped answering). They get a pool of their own, with
 * no limit: one connection per open stream is what the HTTP/1.1 transport asks for.
 */
function sharedStreamAgent(): Agent {
  sharedStreams ??= new Agent({ keepAliveTimeout: 4_000 });
  return sharedStreams;
}

export async function send(
  url: URL,
  method: 'GET' | 'POST' | 'DELETE',
  headers: Record<string, string>,
  options: { body?: string; signal?: AbortSignal; dispatcher?: Dispatcher; longLived?: boolean } = {},
): Promise<HttpAnswer> {
  try {
    const answer = await request(url, {
      method,
      headers,
      body: options.body,
      signal: options.signal,
      dispatcher: options.dispatcher ?? (options.longLived ? sharedStreamAgent() : sharedAgent()),
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
