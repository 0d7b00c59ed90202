/**
 * @module gateway/federation/resource-routes
 * Which server a resource URI goes to (docs/FEDERATION.md, "Resources"). URIs are kept as the
 * servers give them; the gateway learns from the lists it merges which server listed which URI
 * and template. A URI listed by two servers goes to the first in configuration order; a URI no
 * list has shown goes to the server whose template's fixed beginning matches most of it. Shared
 * by all sessions (servers list the same resources to everybody) and bounded.
 */
import type { JsonValue } from '../../protocol/jsonrpc.js';
import { isObject } from '../../protocol/jsonrpc.js';

const MAX_URIS = 100_000;

export class ResourceRoutes {
  /** URI -> index of the server that listed it (lowest index wins). */
  readonly #uris = new Map<string, number>();
  /** Fixed beginning of a template -> server index. */
  readonly #templates = new Map<string, number>();

  /** Learns a page of `resources/list` (field `resources`) or `resources/templates/list` (`resourceTemplates`). */
  learn(server: number, items: readonly JsonValue[]): void {
    for (const item of items) {
      if (!isObject(item)) continue;
      if (typeof item['uri'] === 'string') this.#learnUri(item['uri'], server);
      if (typeof item['uriTemplate'] === 'string') {
        const prefix = item['uriTemplate'].split('{', 1)[0]!;
        const known = this.#templates.get(prefix);
        if (known === undefined || server < known) this.#templates.set(prefix, server);
      }
    }
  }

  /** The server index for `uri`; undefined when no list or template names it. */
  route(uri: string): number | undefined {
    const listed = this.#uris.get(uri);
    if (listed !== undefined) return listed;
    let best: { length: number; server: number } | undefined;
    for (const [prefix, server] of this.#templates) {
      if (prefix.length === 0 || !uri.startsWith(prefix)) continue;
      if (!best || prefix.length > best.length || (prefix.length === best.length && server < best.server))
        best = { length: prefix.length, server };
    }
    return best?.server;
  }

  /** A URI found by asking (a read that one server answered). */
  remember(uri: string, server: number): void {
    this.#learnUri(uri, server);
  }

  #learnUri(uri: string, server: number): void {
    const known = this.#uris.get(uri);
    if (known !== undefined && known <= server) return;
    if (known === undefined && this.#uris.size >= MAX_URIS) this.#uris.delete(this.#uris.keys().next().value!);
    this.#uris.set(uri, server);
  }
}
