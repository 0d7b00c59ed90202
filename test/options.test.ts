/**
 * Options are checked by one path (protocol/options.ts): every library entry refuses a bad
 * value at construction with the stable code SG_INVALID_OPTION, the option's name, what it
 * must be and what it got (docs/errors.md, "Configuration errors").
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { durationMs } from '../src/policy/duration.js';
import { SessionManager } from '../src/session/session-manager.js';
import { createSessionServer } from '../src/server/session-server.js';
import { bindMcpServer } from '../src/server/sdk/sdk-binding.js';
import { SessionClient } from '../src/client/session-client.js';
import { OptionError } from '../src/protocol/options.js';
import { httpUpstream } from '../src/gateway/upstreams/http/http-upstream.js';
import { stdioUpstream } from '../src/gateway/upstreams/stdio/stdio-upstream.js';
import { federation } from '../src/gateway/federation/federation.js';
import { ChildLedger } from '../src/gateway/upstreams/stdio/child-ledger.js';
import { RedisStore } from '../src/store/redis/redis-store.js';

/** A federated server that is never reached (the options are refused before). */
const server = (name: string) => ({
  name,
  app: { handle: () => Promise.reject(new Error('unused')), receive: () => {} },
  probe: () => Promise.reject(new Error('unused')),
  target: 'nowhere',
});

const application = { handle: () => Promise.reject(new Error('unused')), receive: () => {} };

function refusal(build: () => unknown): OptionError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(OptionError);
    expect(error).toBeInstanceOf(TypeError); // what callers caught before the code existed
    return error as OptionError;
  }
  throw new Error('accepted');
}

it.each([
  ['idleTimeoutMs', () => new SessionManager({ idleTimeoutMs: 0 }), /"idleTimeoutMs" must be a positive number, got 0/],
  ['onCap', () => new SessionManager({ onCap: 'drop' as never }), /"onCap" must be "reject", "evict" or "evict-any", got "drop"/],
  ['touchFraction', () => new SessionManager({ touchFraction: 1 }), /"touchFraction" must be a number from 0 up to/],
  ['maxBodyBytes', () => createSessionServer({ application, maxBodyBytes: 1.5 }), /"maxBodyBytes" must be a positive integer, got 1.5/],
  ['application', () => createSessionServer({ application: {} as never }), /"application" must implement handle\(\) and receive\(\)/],
  [
    'allowedHosts',
    () => createSessionServer({ application, allowedHosts: 'localhost' as never }),
    /"allowedHosts" must be an array of host names/,
  ],
  [
    'closeTimeoutMs',
    () => new SessionClient('http://127.0.0.1:1/mcp', { closeTimeoutMs: -1 }),
    /"closeTimeoutMs" must be a positive number/,
  ],
  [
    'instanceIdleTimeoutMs',
    () => bindMcpServer(() => new McpServer({ name: 'x', version: '1' }), { instanceIdleTimeoutMs: Infinity }),
    /"instanceIdleTimeoutMs" must be a positive number of milliseconds, got Infinity/,
  ],
  ['factory', () => bindMcpServer('not a factory' as never), /"factory" must be a function/],
  ['url', () => httpUpstream({ url: 'ftp://example.com/mcp' }), /"url" must be an http\(s\) URL or a non-empty list of them/],
  [
    'maxMessageBytes',
    () => httpUpstream({ url: 'http://127.0.0.1:1/mcp', maxMessageBytes: 0 }),
    /"maxMessageBytes" must be a positive integer/,
  ],
  ['spares', () => stdioUpstream({ command: 'x', args: [], spares: -1 }), /"spares" must be an integer from 0 to 64, got -1/],
  ['args', () => stdioUpstream({ command: 'x', args: 'a b' as never }), /"args" must be an array of arguments/],
  [
    'servers',
    () => federation({ servers: [server('a'), server('a')] }),
    /"servers" must be a non-empty list of servers with distinct \[a-z0-9-\] names/,
  ],
  ['servers', () => federation({ servers: [server('GitHub')] }), /distinct \[a-z0-9-\] names/],
  ['namespaceSeparator', () => federation({ servers: [server('a')], namespaceSeparator: 'x' }), /at least one outside/],
])('%s: refused with SG_INVALID_OPTION, naming it', (name, build, message) => {
  const error = refusal(build);
  expect(error.code).toBe('SG_INVALID_OPTION');
  expect(error.option).toBe(name);
  expect(error.message).toMatch(message);
});

it('accepts the defaults, Infinity for caps and 0 where 0 means none', () => {
  expect(() => new SessionManager({ maxSessions: Infinity, sweepIntervalMs: 0 })).not.toThrow();
  expect(() => createSessionServer({ application, requestTimeoutMs: 0 }).close()).not.toThrow();
});

describe('every argument error is coded', () => {
  it('no source throws a bare TypeError: arguments are refused with OptionError (SG_INVALID_OPTION) naming them', () => {
    const root = new URL('../src/', import.meta.url);
    const bare = readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => /throw new TypeError\(/.test(readFileSync(new URL(file, root), 'utf8')));
    expect(bare).toEqual([]);
    expect(() => durationMs('soon')).toThrow(
      expect.objectContaining({ name: 'OptionError', code: 'SG_INVALID_OPTION', option: 'duration' }),
    );
  });

  it("a public constructor's argument checked outside an options object is coded too: a Redis URL, a child ledger open to others", () => {
    const coded = (option: string) => expect.objectContaining({ name: 'OptionError', code: 'SG_INVALID_OPTION', option });
    for (const url of ['redis://[bad', 'http://h:1', 'redis-cluster://a:1/0', 'redis-sentinel://s1:26379', 'redis-cluster://a:99999'])
      expect(() => new RedisStore({ url }), url).toThrow(coded('url'));
    const open = mkdtempSync(join(tmpdir(), 'sg-ledger-'));
    chmodSync(open, 0o777);
    try {
      expect(() => new ChildLedger(open)).toThrow(coded('directory'));
    } finally {
      rmSync(open, { recursive: true, force: true });
    }
  });
});
