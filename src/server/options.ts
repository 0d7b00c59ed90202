/**
 * @module server/options
 * Options of `createSessionServer`, with their defaults.
 */
import type { SessionManager } from '../session/session-manager.js';
import type { SessionOptions } from '../session/options.js';
import type { Identity, McpApplication } from './application.js';
import { DEFAULT_IN_FLIGHT, type InFlightLimits } from './in-flight.js';
import type { ResumeOptions } from './resume/resume-options.js';
import { checkOptions, option, type OptionsSchema, required } from '../protocol/options.js';

/** What `authenticate` may look at: the request's method and headers. */
export interface RequestView {
  readonly method: string;
  header(name: string): string | undefined;
}

export interface SessionServerOptions extends SessionOptions {
  /** Answers the MCP messages (the SDK binding, the gateway, or your own). Required. */
  application: McpApplication;
  /**
   * Returns the caller's identity (e.g. the subject of a verified token; or an `Identity` with
   * its verified claims, which applications then see as `context.identity`), or undefined for
   * anonymous. The session keeps only a keyed hash of the principal; a session used by another
   * identity is answered 404. Throw `new SessiongateError('SG_UNAUTHENTICATED')` to answer 401.
   * Default: everyone is anonymous.
   */
  authenticate?: (request: RequestView) => string | Identity | undefined | Promise<string | Identity | undefined>;
  /**
   * S10: allowed `Origin` values (`*` for any). Default: same-host and localhost origins only.
   */
  allowedOrigins?: readonly string[];
  /**
   * Host names (no port) the `Host` header may carry; others get 403. Set it for a server on
   * loopback, e.g. `LOCAL_HOSTNAMES`, to stop DNS rebinding. Default: any Host (the CLI sets
   * the loopback names itself when it listens on loopback).
   */
  allowedHosts?: readonly string[];
  /** Largest POST body in bytes; past it 413. Default 4 MiB. */
  maxBodyBytes?: number;
  /**
   * ms a request may go without its answer or a message of its stream (progress counts) before
   * the server answers it -32001 itself and aborts `context.signal`. 0 for no deadline.
   * Default 120,000 (2 minutes).
   */
  requestTimeoutMs?: number;
  /** Requests in flight per session; past it 429. Default 32. */
  maxInflightPerSession?: number;
  /** Requests in flight per principal (anonymous callers together are one); past it 429. Default 256. */
  maxInflightPerPrincipal?: number;
  /**
   * Resumable SSE streams (docs/RESUMPTION.md): event ids, a per-stream event log in the
   * session store, GET + Last-Event-ID replay, and a client's disconnect not cancelling its
   * call. `false` turns it off (no event ids, a disconnect cancels). Default: on, with
   * `DEFAULT_RESUME`, when the store keeps a log (all three built-in stores do).
   */
  resume?: ResumeOptions | false;
  /** Use an existing session manager (its store and policy) instead of creating one. */
  sessions?: SessionManager;
  /**
   * Keep when authentication and the session's look-up ran on each request (`context.timings`),
   * for trace spans (the gateway's tracing, docs/OBSERVABILITY.md). Default false.
   */
  recordTimings?: boolean;
}

export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

export function inFlightLimits(options: SessionServerOptions): InFlightLimits {
  return {
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_IN_FLIGHT.requestTimeoutMs,
    perSession: options.maxInflightPerSession ?? DEFAULT_IN_FLIGHT.perSession,
    perPrincipal: options.maxInflightPerPrincipal ?? DEFAULT_IN_FLIGHT.perPrincipal,
  };
}

/** What each server option must be, beside the session options (docs/errors.md, "Configuration errors"). */
export const serverOptionsSchema = {
  application: required(
    option.custom(
      'must implement handle() and receive()',
      (app) =>
        typeof (app as Partial<McpApplication> | undefined)?.handle === 'function' && typeof (app as McpApplication).receive === 'function',
    ),
  ),
  maxBodyBytes: option.positiveInteger,
  requestTimeoutMs: option.nonNegativeInteger,
  maxInflightPerSession: option.positiveInteger,
  maxInflightPerPrincipal: option.positiveInteger,
  allowedOrigins: option.strings('origins'),
  allowedHosts: option.strings('host names'),
  authenticate: option.func,
  recordTimings: option.boolean,
  resume: option.custom(
    'must be false or { windowMs, maxEvents, retryMs } with positive integers',
    (value) =>
      value === false ||
      (typeof value === 'object' &&
        value !== null &&
        Object.entries(value).every(
          ([key, n]) => ['windowMs', 'maxEvents', 'retryMs'].includes(key) && Number.isInteger(n) && (n as number) > 0,
        )),
  ),
} satisfies OptionsSchema;

export function checkServerOptions(options: SessionServerOptions): void {
  checkOptions(serverOptionsSchema, options);
}
