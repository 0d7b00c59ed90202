/**
 * @module gateway/federation/request-routes
 * Which server a request goes to, and the request as that server must see it
 * (docs/FEDERATION.md, "Names" and "Resources"): tools and prompts by the server part of their
 * name (renamed back to the server's own), resources by the table of who listed them, a
 * completion by what it completes. A name or method no server has is the client's mistake,
 * answered here with the protocol's error.
 */
import { JSONRPC } from '../../protocol/failures.js';
import { isObject, type JsonObject, type JsonRpcRequest, type JsonRpcResponse } from '../../protocol/jsonrpc.js';
import type { Member } from './member.js';
import type { ServerNames } from './names.js';
import { ResourceRoutes } from './resource-routes.js';
import { rpcError } from './rpc-error.js';

/** A server and the request for it; an answer to give the client instead; or a URI to ask every server about. */
export type Route = { member: Member; request: JsonRpcRequest } | { error: JsonRpcResponse } | { ask: true };

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
    const params = request.params ?? {};
    switch (request.method) {
      case 'tools/call':
      case 'prompts/get':
        return this.#byServerName(request, params['name'], (name) => ({ ...params, name }));
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return this.#byUri(request, params['uri']);
      case 'completion/complete': {
        const ref = params['ref'];
        if (!isObject(ref)) break;
        if (ref['type'] === 'ref/prompt') return this.#byServerName(request, ref['name'], (name) => ({ ...params, ref: { ...ref, name } }));
        if (ref['type'] === 'ref/resource') return this.#byUri(request, ref['uri']);
        break;
      }
      default:
        return { error: rpcError(request.id, JSONRPC.METHOD_NOT_FOUND, `Method not found: ${request.method}`) };
    }
    return { error: rpcError(request.id, JSONRPC.INVALID_PARAMS, 'Invalid params') };
  }

  /** A tool or prompt (or a prompt's completion) by the server part of its name. */
  #byServerName(request: JsonRpcRequest, name: unknown, rename: (name: string) => JsonObject): Route {
    const parts = typeof name === 'string' ? this.#names.split(name) : undefined;
    const member = parts && this.#byName.get(parts.server);
    if (!parts || !member) {
      const kind = request.method === 'tools/call' ? 'tool' : 'prompt';
      return { error: rpcError(request.id, JSONRPC.INVALID_PARAMS, `Unknown ${kind}: ${String(name)}`) };
    }
    return { member, request: { ...request, params: rename(parts.name) } };
  }

  #byUri(request: JsonRpcRequest, uri: unknown): Route {
    if (typeof uri !== 'string') return { error: rpcError(request.id, JSONRPC.INVALID_PARAMS, 'Invalid params: uri must be a string') };
    const index = this.resources.route(uri);
    if (index !== undefined) return { member: this.#members[index]!, request };
    if (request.method === 'resources/read') return { ask: true };
    return { error: resourceNotFound(request, uri) };
  }
}

export function resourceNotFound(request: JsonRpcRequest, uri: string): JsonRpcResponse {
  // -32002: the MCP specification's "Resource not found".
  return rpcError(request.id, -32002, 'Resource not found', { uri });
}
