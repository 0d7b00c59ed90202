/**
 * @module gateway/eras/tool-headers
 * What the gateway knows of the upstream's `x-mcp-header` annotations, learned from the
 * `tools/list` results that pass through it: enough to check a sessionless client's
 * `Mcp-Param-*` headers against the body (the gateway reads the body, so it must), and to send
 * them itself toward a sessionless upstream on behalf of a handshake-era client.
 */
import { isObject, type JsonObject, type JsonValue } from '../../protocol/jsonrpc.js';
import { type ParamHeader, paramHeadersOf } from '../../protocol/param-headers.js';

/** Tools remembered per upstream; more than this and the oldest are forgotten. */
const LIMIT = 10_000;

export class ToolHeaders {
  /** Tool name -> its annotated parameters (empty: none; undefined entry: invalid tool). */
  readonly #tools = new Map<string, ParamHeader[] | undefined>();

  /** Whether `tools/list` was ever seen. */
  get known(): boolean {
    return this.#tools.size > 0;
  }

  /**
   * Learns from a `tools/list` result and returns it without the tools whose annotations break
   * the rules: a client MUST leave those out (Streamable HTTP 2026-07-28, Schema Extension).
   */
  learn(result: JsonObject): JsonObject {
    const tools = result['tools'];
    if (!Array.isArray(tools)) return result;
    const kept: JsonValue[] = [];
    for (const tool of tools) {
      if (!isObject(tool) || typeof tool['name'] !== 'string') continue;
      const params = paramHeadersOf(tool['inputSchema']);
      this.#tools.delete(tool['name']);
      this.#tools.set(tool['name'], params);
      if (this.#tools.size > LIMIT) this.#tools.delete(this.#tools.keys().next().value!);
      if (params !== undefined) kept.push(tool);
    }
    return kept.length === tools.length ? result : { ...result, tools: kept };
  }

  /** The annotated parameters of a tool: [] when it has none or is unknown. */
  of(tool: string): readonly ParamHeader[] {
    return this.#tools.get(tool) ?? [];
  }
}
