/**
 * @module gateway/curation/pin-lock
 * The pins lock file (docs/CURATION.md, "Lock files"): every server's accepted tool definitions,
 * written in a stable order so a change reads as a small diff in review, like a dependency lock
 * file. `sessiongate pins export` writes one from the store; `sessiongate pins import` makes it
 * the accepted set (after checking that every definition has the hash it claims). Tool names
 * are the servers' own, so they are read into Maps and written from objects without a
 * prototype: `__proto__` is a tool name like any other.
 */
import { z } from 'zod';
import { isObject, type JsonObject } from '../../protocol/jsonrpc.js';
import { pinnedDefinition, type PinnedDefinition } from './pinned-definition.js';
import type { ToolPins } from './tool-pins.js';

export const LOCK_FORMAT = 'sessiongate-pins/1';

/** Each server's accepted definitions, by tool name. */
export interface PinLock {
  servers: Map<string, Map<string, PinnedDefinition>>;
}

const SERVER = /^[a-z0-9-]{1,64}$/;
const entry = z
  .object({ hash: z.string().regex(/^sha256:[0-9a-f]{64}$/), definition: z.record(z.string(), z.unknown()).nullable() })
  .strict();

/** Every server's accepted definitions in the store. */
export async function exportLock(pins: ToolPins): Promise<PinLock> {
  const servers = new Map<string, Map<string, PinnedDefinition>>();
  for (const [server, record] of Object.entries(await pins.all()))
    servers.set(
      server,
      new Map([...record.accepted].map(([tool, { hash, definition }]) => [tool, { hash, definition: definition as JsonObject | null }])),
    );
  return { servers };
}

/** The lock file's text: two-space JSON, servers and tools sorted by name, a final newline. */
export function lockText(lock: PinLock): string {
  const servers = Object.create(null) as Record<string, unknown>;
  for (const server of [...lock.servers.keys()].sort(byName)) {
    const tools = Object.create(null) as Record<string, unknown>;
    const listed = lock.servers.get(server)!;
    for (const tool of [...listed.keys()].sort(byName)) tools[tool] = listed.get(tool);
    servers[server] = { tools };
  }
  return `${JSON.stringify({ format: LOCK_FORMAT, servers }, null, 2)}\n`;
}

/** A lock file's text, checked: its shape, and each definition against its hash. Throws naming every problem. */
export function parseLock(text: string, source = 'lock file'): PinLock {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON`, { cause: error });
  }
  const problems: string[] = [];
  const servers = new Map<string, Map<string, PinnedDefinition>>();
  if (!isObject(value) || value['format'] !== LOCK_FORMAT) problems.push(`/format must be "${LOCK_FORMAT}"`);
  else if (!isObject(value['servers'])) problems.push('/servers must be an object of servers');
  else
    for (const [server, part] of Object.entries(value['servers'])) {
      if (!SERVER.test(server)) problems.push(`/servers/${server}: not a server name ([a-z0-9-], 1 to 64)`);
      else if (!isObject(part) || !isObject(part['tools'])) problems.push(`/servers/${server} must be { "tools": { ... } }`);
      else servers.set(server, toolsOf(server, part['tools'], problems));
    }
  if (problems.length > 0) throw new Error(`${source}: ${problems.join('; ')}`);
  return { servers };
}

function toolsOf(server: string, tools: JsonObject, problems: string[]): Map<string, PinnedDefinition> {
  const checked = new Map<string, PinnedDefinition>();
  for (const [tool, raw] of Object.entries(tools)) {
    const where = `/servers/${server}/tools/${tool}`;
    const parsed = entry.safeParse(raw);
    if (!parsed.success) {
      problems.push(`${where}: ${parsed.error.issues.map((issue) => `${issue.path.join('/') || '.'} ${issue.message}`).join(', ')}`);
      continue;
    }
    const { hash, definition } = parsed.data;
    if (definition !== null && definition['name'] !== tool) problems.push(`${where}: the definition names "${String(definition['name'])}"`);
    else if (definition !== null && pinnedDefinition(definition as JsonObject).hash !== hash)
      problems.push(`${where}: the definition does not have the hash given`);
    else checked.set(tool, { hash, definition: definition as JsonObject | null });
  }
  return checked;
}

/** Makes each server's tools in `lock` its accepted set; resolves with how many tools per server. */
export async function importLock(pins: ToolPins, lock: PinLock): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [server, tools] of lock.servers) {
    await pins.replace(server, tools);
    counts.set(server, tools.size);
  }
  return counts;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
