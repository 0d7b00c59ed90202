/**
 * @module policy/call
 * What a policy decides about: who calls (the verified caller's subject, claims, scopes, client)
 * and what they call (a tool, resource, prompt or other method, with its arguments).
 */
import { clientIdOf, scopesOf } from '../auth/token-rules.js';
import { isObject, type JsonRpcRequest } from '../protocol/jsonrpc.js';
import { isUriTemplate, normalizeResourcePattern } from '../protocol/resource-uri.js';

export interface Caller {
  /** The principal claim's value (`sub` by default); undefined when anonymous. */
  subject: string | undefined;
  /** Who issued the caller's token (`iss`), when it says. */
  issuer: string | undefined;
  /**
   * The caller's issuer is the default one (the gateway's first `--issuer`), or none is set:
   * rules naming no `issuers` describe these callers only, so a partner's `sub: alice` is not Alice.
   */
  ofDefaultIssuer: boolean;
  claims: Readonly<Record<string, unknown>>;
  scopes: ReadonlySet<string>;
  clientId: string | undefined;
  anonymous: boolean;
  /** Whose buckets and approvals these are (the session principal); null when anonymous. */
  principal: string | null;
}

export type CallKind = 'tool' | 'resource' | 'prompt' | 'method' | 'connection';

export interface Call {
  method: string;
  kind: CallKind;
  /** The tool or prompt name, the resource URI, or the server connected; undefined for other methods. */
  name: string | undefined;
  arguments: unknown;
  /** The federated server the call goes to, when the gateway fronts several (docs/FEDERATION.md). */
  server?: string | undefined;
}

/**
 * A person connecting `server` with their own credentials, or using the connection they made
 * (docs/POLICY.md, "Connections"): no method the default governs, so only rules naming
 * `connections` decide it, and a policy that names none lets everyone connect (a connection
 * alone reaches nothing: every call made with it is decided as any call is).
 */
export function connectionCall(server: string): Call {
  return { method: 'sessiongate/connect', kind: 'connection', name: server, arguments: undefined, server };
}

/** Which federated server a tool, prompt or resource belongs to (undefined: none, or unknown). */
export type ServerOf = (call: Pick<Call, 'kind' | 'name'>) => string | undefined;

/** Methods the policy's `default` governs; any other method passes unless a rule names it. */
export const GOVERNED_METHODS: ReadonlySet<string> = new Set([
  'tools/call',
  'resources/read',
  'resources/subscribe',
  'prompts/get',
  'completion/complete',
]);

const RESOURCE_METHODS: ReadonlySet<string> = new Set(['resources/read', 'resources/subscribe', 'resources/unsubscribe']);

/**
 * The call a request makes, its resource URI as given (the gateway's hygiene step has put it in
 * its normal form: protocol/request-hygiene.ts). A completion is the call on what it completes
 * (its `ref`): a prompt's arguments, a resource's or template's (docs/POLICY.md).
 */
export function callOf(request: Pick<JsonRpcRequest, 'method' | 'params'>): Call {
  const params = request.params ?? {};
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  if (request.method === 'completion/complete') {
    const ref = isObject(params['ref']) ? params['ref'] : {};
    if (ref['type'] === 'ref/prompt') return { method: request.method, kind: 'prompt', name: text(ref['name']), arguments: undefined };
    if (ref['type'] === 'ref/resource') return { method: request.method, kind: 'resource', name: text(ref['uri']), arguments: undefined };
  }
  if (request.method === 'tools/call')
    return { method: request.method, kind: 'tool', name: text(params['name']), arguments: params['arguments'] };
  if (request.method === 'prompts/get')
    return { method: request.method, kind: 'prompt', name: text(params['name']), arguments: params['arguments'] };
  if (RESOURCE_METHODS.has(request.method))
    return { method: request.method, kind: 'resource', name: text(params['uri']), arguments: undefined };
  return { method: request.method, kind: 'method', name: undefined, arguments: undefined };
}

/** The caller a verified identity stands for (undefined identity: anonymous). */
export function callerOf(
  identity: { claims: Readonly<Record<string, unknown>> } | undefined,
  principal: string | null,
  subjectClaim = 'sub',
  defaultIssuer?: string,
): Caller {
  if (!identity)
    return {
      subject: undefined,
      issuer: undefined,
      ofDefaultIssuer: false,
      claims: {},
      scopes: new Set(),
      clientId: undefined,
      anonymous: true,
      principal,
    };
  const claims = identity.claims;
  const text = (name: string): string | undefined => (typeof claims[name] === 'string' ? claims[name] : undefined);
  const issuer = text('iss');
  return {
    subject: text(subjectClaim),
    issuer,
    ofDefaultIssuer: defaultIssuer === undefined || issuer === defaultIssuer,
    claims,
    scopes: scopesOf(claims),
    clientId: clientIdOf(claims),
    anonymous: false,
    principal,
  };
}

/** The call a list entry stands for (its server too, in front of a federation). */
export function listedCall(of: Pick<Call, 'method' | 'kind'>, name: string, serverOf: ServerOf | undefined): Call {
  // A listed URI is judged in the form a read of it would take (a template as written).
  const normal = of.kind === 'resource' && !isUriTemplate(name) ? normalizeResourcePattern(name) : name;
  const call: Call = { ...of, name: normal, arguments: undefined };
  if (serverOf) call.server = serverOf(call);
  return call;
}
