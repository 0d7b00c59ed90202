/**
 * @module gateway/federation/merged-initialize
 * What the federation tells a client at initialize (docs/FEDERATION.md, "Sessions"): the union
 * of its servers' capabilities as they answered the start-up probe, with `listChanged` set on
 * lists (the gateway itself sends it when a server comes back), and their instructions, each
 * under the server's name. A server not yet probed counts as offering the usual capabilities.
 */
import type { JsonObject } from '../../protocol/jsonrpc.js';
import { isObject } from '../../protocol/jsonrpc.js';
import type { Member } from './member.js';

const ASSUMED: JsonObject = { tools: {}, prompts: {}, resources: {}, logging: {}, completions: {} };

export function mergedCapabilities(members: readonly Member[]): JsonObject {
  const merged: JsonObject = {};
  for (const member of members) {
    for (const [name, value] of Object.entries(member.capabilities ?? ASSUMED)) {
      if (name === 'experimental' || name === 'tasks') continue;
      const before = merged[name];
      merged[name] = { ...(isObject(before) ? before : {}), ...(isObject(value) ? value : {}) };
    }
  }
  for (const list of ['tools', 'prompts', 'resources']) if (isObject(merged[list])) merged[list] = { ...merged[list], listChanged: true };
  return merged;
}

export function mergedInstructions(members: readonly Member[]): string | undefined {
  const parts = members
    .map((member) => ({ name: member.name, text: member.described?.['instructions'] }))
    .filter((part): part is { name: string; text: string } => typeof part.text === 'string' && part.text.trim() !== '')
    .map((part) => `## ${part.name}\n${nestedHeadings(part.text.trim())}`);
  return parts.length > 0 ? parts.join('\n\n') : undefined;
}

/**
 * A server's own Markdown headings pushed two levels down, so they sit under its `## NAME` and
 * none reads as a sibling of another server's section (code blocks left as they are).
 */
function nestedHeadings(text: string): string {
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s{0,3}(```|~~~)/.test(line)) fenced = !fenced;
      if (fenced) return line;
      const heading = /^ {0,3}(#{1,6})(\s.*|)$/.exec(line);
      return heading ? `${'#'.repeat(Math.min(heading[1]!.length + 2, 6))}${heading[2]}` : line;
    })
    .join('\n');
}
