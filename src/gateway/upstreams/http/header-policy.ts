/**
 * @module gateway/upstreams/http/header-policy
 * Headers toward an upstream are explicit (docs/PROTOCOL.md, section 6): nothing from the client goes up
 * unless configured (`--forward-header`), static ones (`--upstream-header`) always do.
 */
import type { RequestContext } from '../../../server/application.js';

export interface HeaderPolicyOptions {
  /** Downstream request headers copied upstream (lower-case names). Default: none. */
  forwardHeaders?: readonly string[];
  /** Headers always sent upstream (e.g. an API key). Default: none. */
  upstreamHeaders?: Readonly<Record<string, string>>;
}

/** The headers one downstream request sends upstream under the policy. */
export function headerPolicy(options: HeaderPolicyOptions): (context: RequestContext) => Record<string, string> {
  const forward = (options.forwardHeaders ?? []).map((name) => name.toLowerCase());
  return (context) => {
    const headers: Record<string, string> = { ...options.upstreamHeaders };
    for (const name of forward) {
      const value = context.header(name);
      if (value !== undefined) headers[name] = value;
    }
    return headers;
  };
}
