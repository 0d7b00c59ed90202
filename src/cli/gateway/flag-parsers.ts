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

/**
 * `--login-param NAME=VALUE` (repeatable): an extra parameter of the authorization request at
 * the identity provider (Google's `access_type=offline`, Entra's `domain_hint`). The protocol's
 * own parameters cannot be set this way.
 */
export function parseLoginParameter(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = text.indexOf('=');
  const [name, value] = at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
  if (!/^[\w.-]+$/.test(name) || value === '')
    throw new InvalidArgumentError(`invalid login parameter "${text}" (use e.g. access_type=offline)`);
  if (PROTOCOL_PARAMETERS.has(name)) throw new InvalidArgumentError(`--login-param cannot set ${name} (the gateway sets it)`);
  return { ...previous, [name]: value };
}

const PROTOCOL_PARAMETERS = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
]);
