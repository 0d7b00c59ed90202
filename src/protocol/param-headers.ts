/**
 * @module protocol/param-headers
 * `Mcp-Param-{Name}` headers (2026-07-28 Streamable HTTP, "Custom Headers from Tool
 * Parameters"; SEP-2243): a tool's `inputSchema` may mark primitive properties, reachable from
 * the root through `properties` keys only, with `x-mcp-header`; a client mirrors their values
 * into headers, and a server that reads the body rejects a request whose headers disagree with
 * it (400, -32020), a value present in the body with its header missing included.
 */
import { isObject, type JsonObject, type JsonValue } from './jsonrpc.js';
import { decodeHeaderValue, encodeHeaderValue, headerMismatch } from './routing-headers.js';

/** One annotated parameter: the header (lower-case) and the property path in the arguments. */
export interface ParamHeader {
  readonly header: string;
  readonly path: readonly string[];
  readonly type: 'string' | 'integer' | 'boolean';
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
export const PARAM_HEADER_PREFIX = 'mcp-param-';

/**
 * The annotated parameters of one tool, or undefined when an annotation breaks the rules (the
 * spec says a client then leaves the tool out of `tools/list`).
 */
export function paramHeadersOf(inputSchema: JsonValue | undefined): ParamHeader[] | undefined {
  const found: ParamHeader[] = [];
  const seen = new Set<string>();
  let valid = true;
  const visit = (schema: JsonObject, path: string[]): void => {
    const properties = schema['properties'];
    if (!isObject(properties)) return;
    for (const [key, property] of Object.entries(properties)) {
      if (!isObject(property)) continue;
      const name = property['x-mcp-header'];
      if (name !== undefined) {
        const type = property['type'];
        const primitive = type === 'string' || type === 'integer' || type === 'boolean';
        if (typeof name !== 'string' || !TOKEN.test(name) || !primitive || seen.has(name.toLowerCase())) valid = false;
        else {
          seen.add(name.toLowerCase());
          found.push({ header: PARAM_HEADER_PREFIX + name.toLowerCase(), path: [...path, key], type });
        }
      }
      visit(property, [...path, key]);
    }
  };
  if (isObject(inputSchema)) visit(inputSchema, []);
  if (valid && isObject(inputSchema) && annotatedElsewhere(inputSchema)) valid = false;
  return valid ? found : undefined;
}

/** An `x-mcp-header` under anything but a `properties` chain (items, anyOf, $defs...) is invalid. */
function annotatedElsewhere(schema: JsonObject): boolean {
  const walk = (node: JsonValue, reachable: boolean): boolean => {
    if (Array.isArray(node)) return node.some((item) => walk(item, false));
    if (!isObject(node)) return false;
    if (!reachable && 'x-mcp-header' in node) return true;
    return Object.entries(node).some(([key, child]) => {
      if (key === 'properties' && isObject(child) && reachable) return Object.values(child).some((property) => walk(property, true));
      return walk(child, false);
    });
  };
  return walk(schema, true);
}

function valueAt(args: JsonValue | undefined, path: readonly string[]): JsonValue | undefined {
  let node = args;
  for (const key of path) {
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

function asHeaderText(value: JsonValue): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/** Client Behavior: the headers to send for a call's arguments (absent or null: no header). */
export function paramHeaderValues(args: JsonValue | undefined, params: readonly ParamHeader[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const param of params) {
    const value = valueAt(args, param.path);
    const text = value === undefined || value === null ? undefined : asHeaderText(value);
    if (text !== undefined) headers[param.header] = encodeHeaderValue(text);
  }
  return headers;
}

/**
 * Server Validation for the annotated parameters: a value in the body needs its header, equal
 * after decoding (integers compared as numbers); a header whose value is absent from the body is
 * a mismatch too. Headers of parameters nobody annotated are not ours to judge.
 */
export function checkParamHeaders(
  header: (name: string) => string | undefined,
  args: JsonValue | undefined,
  params: readonly ParamHeader[],
): void {
  for (const param of params) {
    const value = valueAt(args, param.path);
    const present = value !== undefined && value !== null;
    const raw = header(param.header);
    const label = `Mcp-Param-${param.header.slice(PARAM_HEADER_PREFIX.length)}`;
    if (raw === undefined) {
      if (present) throw headerMismatch(`${label} header is required for the value in the body`);
      continue;
    }
    const sent = decodeHeaderValue(raw, label);
    if (!present) throw headerMismatch(`${label} header has no value in the body`);
    const matches =
      param.type === 'integer' && typeof value === 'number' ? sent.trim() !== '' && Number(sent) === value : asHeaderText(value) === sent;
    if (!matches) throw headerMismatch(`${label} header value does not match the body`);
  }
}
