/**
 * @module client/http
 * HTTP for the client: undici's `dispatch` over a keep-alive Agent, with a body object of our
 * own (client/response-body.ts) instead of a Readable per answer; cheaper per request than
 * `request`, and much cheaper than fetch. Network failures become SG_CLIENT_CONNECTION.
 */
import type { Abortable } from '../protocol/cancellation.js';
import { Agent, type Dispatcher } from 'undici';
import { SessionClientError } from './errors.js';
import { ResponseBody } from './response-body.js';

export type Body = ResponseBody;

export interface HttpAnswer {
  status: number;
  header(name: string): string | undefined;
  body: Body;
}

let shared: Agent | undefined;
let sharedStreams: Agent | undefined;

/** Connections per origin of the shared keep-alive pool. */
export const SHARED_POOL_CONNECTIONS = 128;

/** A keep-alive pool of `connections` per origin (undefined: no limit), as the client's own. */
export function keepAliveAgent(connections: number | undefined): Agent {
  return new Agent({ keepAliveTimeout: 4_000, ...(connections === undefined ? {} : { connections }) });
}

/** One keep-alive pool per process unless the caller brings a dispatcher. */
export function sharedAgent(): Agent {
  shared ??= keepAliveAgent(SHARED_POOL_CONNECTIONS);
  return shared;
}

/**
 * Long-lived streams (a session's GET stream, a `subscriptions/listen`) hold their connection
 * for as long as they last: in the request pool, 128 of them would leave requests waiting
 * forever (a gateway with 128 sessions stopped answering). They get a pool of their own, with
 * no limit: one connection per open stream is what the HTTP/1.1 transport asks for.
 */
function sharedStreamAgent(): Agent {
  sharedStreams ??= keepAliveAgent(undefined);
  return sharedStreams;
}

function failed(method: string, cause: unknown): SessionClientError {
  const why = connectionProblem(cause);
  return new SessionClientError('SG_CLIENT_CONNECTION', `${method} failed${why === undefined ? '' : `: ${why}`}`, { cause });
}

/** What went wrong with a connection, in words (never an address: messages may reach a gateway's clients). */
const CONNECTION_PROBLEMS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the server running?)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (DNS unavailable)',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  UND_ERR_SOCKET: 'the server closed the connection',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'the answer stalled',
};

/** The cause's code, looked for down its chain of causes. */
export function connectionProblem(error: unknown): string | undefined {
  let cause: unknown = error;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && code in CONNECTION_PROBLEMS) return CONNECTION_PROBLEMS[code];
    cause = cause.cause;
  }
  return undefined;
}

class Answer implements HttpAnswer {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: ResponseBody,
  ) {}

  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

export interface SendOptions {
  body?: string;
  signal?: Abortable;
  /** The pool for requests. Not for long-lived streams, which never share one with requests. */
  dispatcher?: Dispatcher;
  /** A stream that may stay open for long (GET, listen): sent through its own pool. */
  longLived?: boolean;
}

/** Resolves when the answer's status and headers arrive; its body follows. */
export function send(
  url: URL,
  method: 'GET' | 'POST' | 'DELETE',
  headers: Record<string, string>,
  options: SendOptions = {},
): Promise<HttpAnswer> {
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(failed(method, signal.reason));
  // A long-lived stream in a bounded request pool holds a connection requests need: with
  // --upstream-concurrency 4, three sessions' GET streams left requests one connection.
  const dispatcher = options.longLived ? sharedStreamAgent() : (options.dispatcher ?? sharedAgent());
  return new Promise((resolve, reject) => {
    const body = new ResponseBody();
    let answered = false;
    let controller: Dispatcher.DispatchController | undefined;
    const onAbort = (): void => controller?.abort(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    const settle = (): void => signal?.removeEventListener('abort', onAbort);
    try {
      dispatcher.dispatch(
        { origin: url.origin, path: url.pathname + url.search, method, headers, body: options.body },
        {
          onRequestStart(started) {
            controller = started;
            body.attach(started);
            if (signal?.aborted) onAbort();
            else signal?.addEventListener('abort', onAbort, { once: true });
          },
          onResponseStart(_controller, status, responseHeaders) {
            if (status < 200) return; // informational: the real answer follows
            answered = true;
            resolve(new Answer(status, responseHeaders, body));
          },
          onResponseData(_controller, chunk) {
            body.push(chunk);
          },
          onResponseEnd() {
            settle();
            body.end();
          },
          onResponseError(_controller, error) {
            settle();
            if (answered) body.fail(error);
            else reject(failed(method, error));
          },
        },
      );
    } catch (error) {
      settle();
      reject(failed(method, error));
    }
  });
}
