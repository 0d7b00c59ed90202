/**
 * @module gateway/curation/pin-lock
 * The pins lock file (docs/CURATION.md, "Lock files"): every server's accepted tool definitions,
 * written in a stable order so a change reads as a small diff in review, like a dependency lock
 * file. `sessiongate pins export` writes one from the store; `sessiongate pins import` makes it
 * the accepted set (after checking that every definition has the hash it claims).
 */
import { z } from 'zod';
import type { JsonObject } from '../../protocol/jsonrpc.js';
import { pinnedDefinition, type PinnedDefinition } from './pinned-definition.js';
import type { ToolPins } from './tool-pins.js';

export const LOCK_FORMAT = 'sessiongate-pins/1';

const lockSchema = z.object({
  format: z.literal(LOCK_FORMAT),
  servers: z.record(
    z.string().regex(/^[a-z0-9-]{1,64}$/),
    z.object({
      tools: z.record(
        z.string().min(1),
        z.object({ hash: z.string().regex(/^sha256:[0-9a-f]{64}$/), definition: z.record(z.string(), z.unknown()).nullable() }),
      ),
    }),
  ),
});

export type PinLock = z.infer<typeof lockSchema>;

/** Every server's accepted definitions as a lock file (keys sorted). */
export async function exportLock(pins: ToolPins): Promise<PinLock> {
  const servers: PinLock['servers'] = {};
  for (const [server, record] of Object.entries(await pins.all()).sort(([a], [b]) => a.localeCompare(b))) {
    const tools: PinLock['servers'][string]['tools'] = {};
    for (const tool of Object.keys(record.accepted).sort()) {
      const { hash, definition } = record.accepted[tool]!;
      tools[tool] = { hash, definition };
    }
    servers[server] = { tools };
  }
  return { format: LOCK_FORMAT, servers };
}

/** A lock file's text, checked: its shape, and each definition against its hash. Throws naming every problem. */
export function parseLock(text: string, source = 'lock file'): PinLock {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON`, { cause: error });
  }
  const result = lockSchema.safeParse(value);
  if (!result.success)
    throw new Error(`${source}: ${result.error.issues.map((issue) => `/${issue.path.join('/')}: ${issue.message}`).join('; ')}`);
  const problems: string[] = [];
  for (const [server, { tools }] of Object.entries(result.data.servers))
    for (const [tool, { hash, definition }] of Object.entries(tools)) {
      if (definition === null) continue;
      if (definition['name'] !== tool)
        problems.push(`/servers/${server}/tools/${tool}: the definition names "${String(definition['name'])}"`);
      if (pinnedDefinition(definition as JsonObject).hash !== hash)
        problems.push(`/servers/${server}/tools/${tool}: the definition does not have the hash given`);
    }
  if (problems.length > 0) throw new Error(`${source}: ${problems.join('; ')}`);
  return result.data;
}

/** Makes each server's tools in `lock` its accepted set; resolves with how many tools per server. */
export async function importLock(pins: ToolPins, lock: PinLock): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [server, { tools }] of Object.entries(lock.servers)) {
    const definitions: Record<string, PinnedDefinition> = {};
    for (const [tool, { hash, definition }] of Object.entries(tools))
      definitions[tool] = { hash, definition: definition as JsonObject | null };
    await pins.replace(server, definitions);
    counts[server] = Object.keys(definitions).length;
  }
  return counts;
}

/** The lock file's text: two-space JSON and a final newline. */
export function lockText(lock: PinLock): string {
  return `${JSON.stringify(lock, null, 2)}\n`;
}
