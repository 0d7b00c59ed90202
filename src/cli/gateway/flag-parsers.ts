/**
 * @module cli/gateway/flag-parsers
 * Parsers of the gateway's text settings shared by its flags and by the per-server entries of
 * a federation (server-specs.ts): URLs, headers, commands.
 */
import { InvalidArgumentError } from 'commander';
import { isHttpUrl } from '../../protocol/options.js';

/** An HTTP header name (RFC 9110 token). */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function parseUpstream(text: string): string {
  if (isHttpUrl(text)) return new URL(text).href;
  throw new InvalidArgumentError(`invalid upstream "${text}" (use e.g. http://127.0.0.1:3000/mcp)`);
}

export function parseHeaderName(text: string, previous: string[] = []): string[] {
  if (!TOKEN.test(text)) throw new InvalidArgumentError(`invalid header name "${text}"`);
  return [...previous, text.toLowerCase()];
}

export function parseHeader(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = text.indexOf(':');
  const name = colon > 0 ? text.slice(0, colon).trim() : '';
  if (!TOKEN.test(name)) throw new InvalidArgumentError(`invalid header "${text}" (use "NAME: VALUE")`);
  return { ...previous, [name.toLowerCase()]: text.slice(colon + 1).trim() };
}

export function parseCommand(text: string): string[] {
  const words: string[] = [];
  for (const match of text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(match[1] ?? match[2] ?? match[3]!);
  if (words.length === 0) throw new InvalidArgumentError('empty command');
  return words;
}

export function parseIdentityHeader(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const [name = '', claim = ''] = text.split('=', 2);
  if (!TOKEN.test(name) || !/^[\w.:-]+$/.test(claim))
    throw new InvalidArgumentError(`invalid identity header "${text}" (use e.g. x-user=sub)`);
  return { ...previous, [name.toLowerCase()]: claim };
}
