/**
 * @module gateway/upstreams/http/header-policy
 * Headers toward an upstream are explicit (docs/PROTOCOL.md, section 6): nothing from the client goes up
 * unless configured (`--forward-header`), static ones (`--upstream-header`) always do. Identity
 * headers (`--identity-header`) carry verified claims of the caller, so the upstream learns who
 * called without ever seeing the client's token (docs/AUTH.md, A7); a header of that name from
 * anywhere else is dropped, so a client cannot pose as somebody. The same holds for the
 * `Authorization` of a token exchanged for the caller (upstream-tokens.ts).
 */
import type { JsonRpcMessage } from '../../../protocol/jsonrpc.js';
import type { RequestContext } from '../../../server/application.js';
import { metaCarrier } from '../../../server/request-trace.js';

export interface HeaderPolicyOptions {
  /** Downstream request headers copied upstream (lower-case names). Default: none. */
  forwardHeaders?: readonly string[];
  /** Headers always sent upstream (e.g. an API key). Default: none. */
  upstreamHeaders?: Readonly<Record<string, string>>;
  /** Header name -> claim of the verified caller (`context.identity`) sent in it. Default: none. */
  identityHeaders?: Readonly<Record<string, string>>;
  /**
   * The caller's own credential for the upstream (`--upstream-token-exchange`), sent as
   * `Authorization` in place of any other. Default: none.
   */
  upstreamAuthorization?: (context: RequestContext) => string | undefined;
  /** The header `upstreamAuthorization`'s value goes in (a per-person API key's own header). Default 'authorization'. */
  upstreamAuthorizationHeader?: string;
  /**
   * The trace context a message carries in `params._meta` also sent as `traceparent`,
   * `tracestate` and `baggage` headers, for an upstream whose HTTP instrumentation reads those
   * (docs/OBSERVABILITY.md, "Traces"). Default false; the CLI turns it on with tracing.
   */
  traceHeaders?: boolean;
}

/** The headers one downstream request (`message`, when the upstream request is known) sends upstream under the policy. */
export function headerPolicy(options: HeaderPolicyOptions): (context: RequestContext, message?: JsonRpcMessage) => Record<string, string> {
  const forward = (options.forwardHeaders ?? []).map((name) => name.toLowerCase());
  const identity = Object.entries(options.identityHeaders ?? {}).map(([name, claim]) => [name.toLowerCase(), claim] as const);
  const personal = (options.upstreamAuthorizationHeader ?? 'authorization').toLowerCase();
  const traced = options.traceHeaders === true;
  return (context, message) => {
    const headers: Record<string, string> = { ...options.upstreamHeaders };
    for (const name of forward) {
      const value = context.header(name);
      if (value !== undefined) headers[name] = value;
    }
    for (const [name, claim] of identity) {
      const value = claimValue(context.identity?.claims[claim]);
      if (value === undefined) delete headers[name];
      else headers[name] = value;
    }
    if (options.upstreamAuthorization) {
      const value = options.upstreamAuthorization(context);
      if (value === undefined) delete headers[personal];
      else headers[personal] = value;
    }
    // Last: the upstream's parent is the gateway's span, whatever a forwarded header said.
    const carrier = traced && message ? metaCarrier(message) : undefined;
    if (carrier) Object.assign(headers, carrier);
    return headers;
  };
}

/**
 * A claim as a header value (docs/AUTH.md, "What the upstream and the audit trail learn"):
 * text or a number as it is; a list as an RFC 8941 List (strings quoted, `"` and `\\` escaped; integers bare), so
 * `["dev", "admins x"]` is `"dev", "admins x"` and cannot be read as three groups. Visible
 * ASCII only: a claim that cannot be written so is not sent (the header is dropped).
 */
function claimValue(claim: unknown): string | undefined {
  const text = Array.isArray(claim)
    ? structuredList(claim)
    : typeof claim === 'string' || typeof claim === 'number'
      ? String(claim)
      : undefined;
  return text !== undefined && /^[\x20-\x7e]{1,1024}$/.test(text) ? text : undefined;
}

function structuredList(items: readonly unknown[]): string | undefined {
  const members: string[] = [];
  for (const item of items) {
    if (typeof item === 'number' && Number.isSafeInteger(item)) members.push(String(item));
    else if (typeof item === 'string' && /^[\x20-\x7e]*$/.test(item)) members.push(`"${item.replace(/[\\"]/g, '\\$&')}"`);
    else return undefined;
  }
  return members.join(', ');
}
