/**
 * @module gateway/authorization-server/address-guard
 * Addresses the gateway must not be made to fetch from on a stranger's say-so (a client's
 * metadata document URL is one): loopback, private, link-local, shared and reserved ranges of
 * IPv4 and IPv6, including IPv4 hidden in IPv6 (mapped, NAT64). A request to a name is pinned to
 * the address checked, so a name that resolves once to a public address and then to a private
 * one (DNS rebinding) cannot slip through.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { OAuthError } from './oauth-error.js';

const BLOCKED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['100::', 64],
] as const)
  BLOCKED.addSubnet(network, prefix, 'ipv6');

/** Whether `address` (an IP literal) is one a stranger must not make us fetch from. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family !== 6) return true;
  const lower = address.toLowerCase();
  // IPv4 inside IPv6: mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the IPv4 address.
  const embedded = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1] ?? hexEmbedded(lower);
  if (embedded !== undefined) return BLOCKED.check(embedded, 'ipv4');
  return BLOCKED.check(address, 'ipv6');
}

/** ::ffff:7f00:1 and 64:ff9b::7f00:1 spell 127.0.0.1 too. */
function hexEmbedded(address: string): string | undefined {
  const match = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address);
  if (!match) return undefined;
  const [high, low] = [parseInt(match[1]!, 16), parseInt(match[2]!, 16)];
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** The address to connect to for `hostname`: the first it resolves to, refused when any is private (unless allowed). */
export async function checkedAddress(hostname: string, allowPrivate: boolean): Promise<{ address: string; family: 4 | 6 }> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  const resolved = isIP(bare) ? [{ address: bare, family: isIP(bare) as 4 | 6 }] : await resolve(bare);
  if (!allowPrivate && resolved.some((entry) => isPrivateAddress(entry.address)))
    throw new OAuthError('invalid_client', `the client metadata document's host ${hostname} is a loopback or private address`);
  return resolved[0]!;
}

async function resolve(hostname: string): Promise<{ address: string; family: 4 | 6 }[]> {
  try {
    const found = await lookup(hostname, { all: true, verbatim: true });
    if (found.length === 0) throw new Error('no address');
    return found.map((entry) => ({ address: entry.address, family: entry.family as 4 | 6 }));
  } catch {
    throw new OAuthError('invalid_client', `the client metadata document's host ${hostname} does not resolve`);
  }
}
