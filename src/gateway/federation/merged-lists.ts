/**
 * @module gateway/federation/merged-lists
 * `tools/list`, `prompts/list`, `resources/list`, `resources/templates/list` over every server
 * at once (docs/FEDERATION.md, "Lists"): each server's page asked in parallel (a list takes as
 * long as the slowest server that answers in time, not their sum), tools and prompts renamed
 * `NAME__name`, resources learned for routing, and a cursor holding each server's own position.
 * A server that is down, fails or is slower than the list timeout is left out of this page;
 * the session is told `list_changed` once it can be listed again.
 */
import { errorResponse } from '../../protocol/answers.js';
import { LIST_METHODS } from '../../protocol/lists.js';
import { isObject, type JsonObject, type JsonRpcRequest, type JsonRpcResponse, type JsonValue } from '../../protocol/jsonrpc.js';
import { decodeCursor, encodeCursor } from './merged-cursor.js';
import type { Member } from './member.js';
import type { ServerNames } from './names.js';

/** One server's page, or why there is none (`late`: it may still answer). */
export type Page = { items: JsonValue[]; next: string | undefined } | { left: 'failed' | 'late'; answered?: Promise<unknown> };

export interface ListSources {
  members: readonly Member[];
  /** Whether the caller can reach `member` now: one they cannot is left out, owing nothing (member.ts, `admits`). */
  admits(member: Member): boolean;
  names: ServerNames;
  /** Asks one server for one page of the list. */
  page(member: Member, request: JsonRpcRequest): Promise<Page>;
  /** A page's items were seen (resources learned for routing). */
  learned(member: Member, method: string, items: readonly JsonValue[]): void;
  /** The list left `member` out: tell the session when it can be listed. */
  leftOut(member: Member, method: string, answered: Promise<unknown> | undefined): void;
}

export async function mergedList(request: JsonRpcRequest, sources: ListSources): Promise<JsonRpcResponse> {
  const list = LIST_METHODS[request.method]!;
  const cursor = request.params?.['cursor'];
  const known = new Set(sources.members.map((member) => member.name));
  let positions: ReadonlyMap<string, string | undefined>;
  if (cursor === undefined) {
    const asked = sources.members.filter((member) => member.offers(list.capability) && member.state !== 'down' && sources.admits(member));
    for (const member of sources.members)
      if (member.state === 'down' && member.offers(list.capability)) sources.leftOut(member, request.method, undefined);
    positions = new Map(asked.map((member) => [member.name, undefined]));
  } else {
    const decoded = typeof cursor === 'string' ? decodeCursor(cursor, known) : undefined;
    if (!decoded) return errorResponse(request.id, 'SG_BAD_PARAMS', 'Invalid params: the cursor is not one this gateway gave');
    positions = decoded;
  }
  const asked = sources.members.filter((member) => positions.has(member.name) && sources.admits(member));
  const pages = await Promise.all(
    asked.map((member) => {
      const position = positions.get(member.name);
      const params: JsonObject = position === undefined ? {} : { cursor: position };
      return sources.page(member, { jsonrpc: '2.0', id: request.id, method: request.method, params });
    }),
  );
  const items: JsonValue[] = [];
  const next = new Map<string, string>();
  pages.forEach((page, index) => {
    const member = asked[index]!;
    if ('left' in page) return sources.leftOut(member, request.method, page.answered);
    sources.learned(member, request.method, page.items);
    for (const item of page.items) items.push(list.named ? renamed(item, member.name, sources.names) : item);
    if (page.next !== undefined) next.set(member.name, page.next);
  });
  const nextCursor = encodeCursor(next);
  return { jsonrpc: '2.0', id: request.id, result: { [list.field]: items, ...(nextCursor ? { nextCursor } : {}) } };
}

/** A server's page from its answer; undefined when the answer is not a list. */
export function pageOf(method: string, response: JsonRpcResponse): { items: JsonValue[]; next: string | undefined } | undefined {
  if (!('result' in response)) return undefined;
  const items = response.result[LIST_METHODS[method]!.field];
  if (!Array.isArray(items)) return undefined;
  const next = response.result['nextCursor'];
  return { items, next: typeof next === 'string' && next !== '' ? next : undefined };
}

/**
 * A server's tool or prompt under its federated name. A tool's `execution.taskSupport` is left
 * out: tasks do not pass through a federation yet (docs/FEDERATION.md), and a client told it may
 * ask for one would get a handle nobody can reach.
 */
function renamed(item: JsonValue, server: string, names: ServerNames): JsonValue {
  if (!isObject(item) || typeof item['name'] !== 'string') return item;
  const named: JsonObject = { ...item, name: names.join(server, item['name']) };
  const execution = named['execution'];
  if (isObject(execution) && 'taskSupport' in execution) {
    const { taskSupport: _, ...rest } = execution;
    if (Object.keys(rest).length > 0) named['execution'] = rest;
    else delete named['execution'];
  }
  return named;
}
