/**
 * @module gateway/federation/request-routes
 * Which server a request goes to, and the request as that server must see it
 * (docs/FEDERATION.md, "Names" and "Resources"): tools and prompts by the server part of their
 * name (renamed back to the server's own), resources by the table of who listed them, a
 * completion by what it completes. A name or method no server has is the client's mistake,
 * answered here with the protocol's error.
 */
import { errorResponse } from '../../protocol/answers.js';
import { isObject, type JsonObject, type JsonRpcRequest, type JsonRpcResponse } from '../../protocol/jsonrpc.js';
import type { Member } from './member.js';
import type { ServerNames } from './names.js';
import { ResourceRoutes } from './resource-routes.js';

/** A server and the request for it; an answer to give the client instead; or a URI to ask every server about. */
export type Route = { member: Member; request: JsonRpcRequest; byUri?: true } | { error: JsonRpcResponse } | { ask: true };

export class RequestRoutes {
  readonly resources = new ResourceRoutes();
  readonly #members: readonly Member[];
  readonly #byName: ReadonlyMap<string, Member>;
  readonly #names: ServerNames;

  constructor(members: readonly Member[], names: ServerNames) {
    this.#members = members;
    this.#byName = new Map(members.map((member) => [member.name, member]));
    this.#names = names;
  }

  member(name: string): Member | undefined {
    return this.#byName.get(name);
  }

  route(request: JsonRpcRequest): Route {
    const target = targetOf(request);
    if (target === undefined) return { error: errorResponse(request.id, 'SG_NO_ROUTE', `Method not found: ${request.method}`) };
    if (target === 'invalid') return { error: errorResponse(request.id, 'SG_BAD_PARAMS') };
    return 'uri' in target ? this.#byUri(request, target.uri) : this.#byServerName(request, target);
  }

  /** The server a request goes to, without rewriting it (policy and audit ask on every call). */
  serverOf(request: Pick<JsonRpcRequest, 'method' | 'params'>): Member | undefined {
    const target = targetOf(request);
    if (target === undefined || target === 'invalid') return undefined;
    if ('uri' in target) return typeof target.uri === 'string' ? this.#located(target.uri) : undefined;
    return this.#named(target.name)?.member;
  }

  /** A tool or prompt (or a prompt's completion) by the server part of its name, renamed to the server's own. */
  #byServerName(request: JsonRpcRequest, target: Named): Route {
    const named = this.#named(target.name);
    if (!named) {
      const kind = request.method === 'tools/call' ? 'tool' : 'prompt';
      return { error: errorResponse(request.id, 'SG_BAD_PARAMS', `Unknown ${kind}: ${String(target.name)}`) };
    }
    // A call asking to run as a task runs as an ordinary call: a task's handle could not be reached through a federation yet.
    const { task: _, ...params } = request.params ?? {};
    const renamed = target.ref ? { ...params, ref: { ...target.ref, name: named.own } } : { ...params, name: named.own };
    return { member: named.member, request: { ...request, params: renamed } };
  }

  #byUri(request: JsonRpcRequest, uri: unknown): Route {
    if (typeof uri !== 'string') return { error: errorResponse(request.id, 'SG_BAD_PARAMS', 'Invalid params: uri must be a string') };
    const member = this.#located(uri);
    if (member) return { member, request, byUri: true };
    // Not listed yet: the servers are asked in turn (a read, or a template's completion on a fresh gateway).
    if (request.method === 'resources/read' || request.method === 'completion/complete') return { ask: true };
    return { error: resourceNotFound(request, uri) };
  }

  #named(name: unknown): { member: Member; own: string } | undefined {
    const parts = typeof name === 'string' ? this.#names.split(name) : undefined;
    const member = parts && this.#byName.get(parts.server);
    return member && { member, own: parts.name };
  }

  #located(uri: string): Member | undefined {
    const index = this.resources.route(uri);
    return index === undefined ? undefined : this.#members[index];
  }
}

/** A server-prefixed name (of a tool or prompt, or a prompt completion's `ref`). */
type Named = { name: unknown; ref?: JsonObject };

/** What a request names a server by; undefined for a method no server answers, 'invalid' for a completion without a usable ref. */
function targetOf(request: Pick<JsonRpcRequest, 'method' | 'params'>): Named | { uri: unknown } | 'invalid' | undefined {
  const params = request.params ?? {};
  switch (request.method) {
    case 'tools/call':
    case 'prompts/get':
      return { name: params['name'] };
    case 'resources/read':
    case 'resources/subscribe':
    case 'resources/unsubscribe':
      return { uri: params['uri'] };
    case 'completion/complete': {
      const ref = params['ref'];
      if (isObject(ref) && ref['type'] === 'ref/prompt') return { name: ref['name'], ref };
      if (isObject(ref) && ref['type'] === 'ref/resource') return { uri: ref['uri'] };
      return 'invalid';
    }
    default:
      return undefined;
  }
}

export function resourceNotFound(request: JsonRpcRequest, uri: string): JsonRpcResponse {
  // -32002: the MCP specification's "Resource not found".
  return errorResponse(request.id, 'SG_RESOURCE_NOT_FOUND', undefined, { uri });
}
