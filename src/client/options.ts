/**
 * @module client/options
 * Options of the session client and its SDK transport, with their defaults.
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { Dispatcher } from 'undici';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';

export interface SessionClientOptions {
  /**
   * Extra request headers (e.g. `authorization`), or a function returning them per request
   * (given the message a POST carries). Never logged and never put in error messages.
   */
  headers?: Record<string, string> | ((message?: JsonRpcMessage) => Record<string, string> | Promise<Record<string, string>>);
  /**
   * The conversation's correlation id (SEP-2822 draft), sent on every request as
   * `Mcp-Client-Session-Id` and `params._meta.clientSessionId`. Default: a new lower-case UUID
   * v4 per client; `false` sends none. It survives a transparent re-initialize.
   */
  clientSessionId?: string | false;
  /** C4: re-initialize and retry once on 404 to a request that carried a session id. Default true. */
  recover?: boolean;
  /**
   * The official SDK's OAuth client provider, used as the SDK's own transport uses it: its
   * token on every request, the SDK's `auth()` flow on 401 and on 403 `insufficient_scope`,
   * then the request once more (client/oauth-steps.ts). Default: none.
   */
  authProvider?: OAuthClientProvider;
  /** Called after each transparent re-initialize. */
  onRecovered?: (event: { recoveries: number }) => void;
  /** Bound on the DELETE sent by close(), in ms. Default 2000. */
  closeTimeoutMs?: number;
  /**
   * The largest message accepted from the server, in bytes (a JSON answer) or characters (an
   * SSE event): past it the call fails and the connection is closed, nothing more is buffered.
   * Default 16 MiB (docs/limits.md).
   */
  maxMessageBytes?: number;
  /** Open the GET stream for server-initiated messages after initialize. Default true. */
  openStream?: boolean;
  /**
   * undici dispatcher (pool, proxy). Default: one shared keep-alive Agent for requests (128
   * connections per origin) and one without a limit for GET streams. Yours carries both: each
   * open GET stream holds one of its connections.
   */
  dispatcher?: Dispatcher;
}

import { isValidClientSessionId } from '../protocol/headers.js';
import { checkOptions, option, type OptionsSchema } from '../protocol/options.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** What each client option must be (docs/errors.md, "Configuration errors"). */
const clientOptionsSchema: OptionsSchema = {
  clientSessionId: option.custom(
    'must be 1 to 128 visible ASCII characters (a lower-case UUID v4 is recommended) or false',
    (id) => id === false || (typeof id === 'string' && isValidClientSessionId(id)),
  ),
  maxMessageBytes: option.positiveInteger,
  closeTimeoutMs: option.finitePositive,
};

export function checkClientOptions(options: SessionClientOptions): void {
  checkOptions(clientOptionsSchema, options);
}

export function isUuidV4(value: string): boolean {
  return UUID_V4.test(value);
}

/** Default `maxMessageBytes`. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
