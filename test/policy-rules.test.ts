/**
 * The policy's rules, decided in process (docs/POLICY.md): the documented minimal form exactly,
 * every condition and name kind, precedence, lists, argument schemas, files that are refused,
 * and the rate limiter's buckets.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callerOf, callOf, compilePolicy, POLICY_SCHEMA, PolicyError, RateLimiter, readPolicyFile } from '../src/policy/index.js';
import type { JsonObject } from '../src/protocol/jsonrpc.js';
import { MINIMAL_POLICY } from './helpers/policies.js';
import { connectionCall } from '../src/policy/call.js';

const folder = mkdtempSync(join(tmpdir(), 'sg-policy-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const person = (sub: string, claims: Record<string, unknown> = {}) => callerOf({ claims: { sub, ...claims } }, `p:${sub}`);
const tool = (name: string, args?: JsonObject) => callOf({ method: 'tools/call', params: { name, ...(args ? { arguments: args } : {}) } });
const decide = (policy: ReturnType<typeof compilePolicy>, caller: ReturnType<typeof callerOf>, call: ReturnType<typeof callOf>) => {
  const decision = policy.decide(caller, call);
  return `${decision.effect}:${decision.rule?.id ?? 'default'}`;
};

describe('the minimal policy', () => {
  const policy = compilePolicy(MINIMAL_POLICY);

  it('decides each documented case', () => {
    expect(decide(policy, person('alice'), tool('echo'))).toBe('allow:alice-echo');
    expect(decide(policy, person('alice'), tool('slow'))).toBe('approve:alice-slow');
    expect(decide(policy, person('alice'), tool('whoami'))).toBe('deny:default');
    expect(decide(policy, person('bob'), tool('echo'))).toBe('deny:bob-out');
    expect(policy.decide(person('bob'), tool('echo')).rule?.reason).toBe('account suspended');
    expect(decide(policy, person('dave', { groups: ['staff', 'ops'] }), tool('anything'))).toBe('allow:ops-all');
    expect(decide(policy, person('erin', { groups: 'ops' }), tool('x'))).toBe('allow:ops-all');
    expect(decide(policy, person('carol'), tool('echo'))).toBe('allow:carol-echo');
    expect(policy.decide(person('carol'), tool('echo')).rule?.rateLimit).toEqual({ requests: 3, per: '1m' });
  });

  it('deny beats approve beats allow, whatever the order in the file', () => {
    expect(decide(policy, person('bob', { groups: ['ops'] }), tool('echo'))).toBe('deny:bob-out');
    const ordered = compilePolicy({
      rules: [
        { id: 'all', effect: 'allow', tools: ['*'] },
        { id: 'ask', effect: 'approve', tools: ['rm*'] },
        { id: 'never', effect: 'deny', tools: ['rm_all'] },
      ],
    });
    expect(decide(ordered, person('x'), tool('rm_file'))).toBe('approve:ask');
    expect(decide(ordered, person('x'), tool('rm_all'))).toBe('deny:never');
    expect(decide(ordered, person('x'), tool('ls'))).toBe('allow:all');
  });

  it('protocol methods pass under a deny default; governed ones get the default', () => {
    for (const method of ['initialize', 'ping', 'tools/list', 'logging/setLevel', 'notifications/initialized'])
      expect(decide(policy, person('zed'), callOf({ method }))).toBe('allow:default');
    for (const method of ['resources/read', 'resources/subscribe', 'prompts/get', 'completion/complete'])
      expect(decide(policy, person('zed'), callOf({ method, params: { uri: 'x://y', name: 'p' } }))).toBe('deny:default');
    expect(decide(compilePolicy({ default: 'allow', rules: [] }), person('zed'), tool('any'))).toBe('allow:default');
  });
});

describe('conditions and names', () => {
  const policy = compilePolicy({
    default: 'deny',
    rules: [
      { id: 'scoped', effect: 'allow', scopes: ['tools:write'], tools: ['write'] },
      { id: 'client', effect: 'allow', clients: ['ci-bot'], tools: ['deploy'] },
      { id: 'guests', effect: 'allow', anonymous: true, tools: ['public_*'] },
      { id: 'docs', effect: 'allow', subjects: ['alice'], resources: ['file:///docs/*'] },
      { id: 'prompt', effect: 'allow', subjects: ['alice'], prompts: ['greet'] },
      { id: 'no-lists', effect: 'deny', subjects: ['mallory'], methods: ['tools/list', 'resources/*'] },
      { id: 'short-echo', effect: 'allow', subjects: ['alice'], tools: ['echo'], arguments: { properties: { text: { maxLength: 5 } } } },
      {
        id: 'no-rm-root',
        effect: 'deny',
        tools: ['shell'],
        arguments: { properties: { command: { pattern: '^rm -rf /' } }, required: ['command'] },
      },
      { id: 'shell', effect: 'allow', subjects: ['alice'], tools: ['shell'] },
    ],
  });

  it('scopes, clients, anonymous callers', () => {
    expect(decide(policy, person('a', { scope: 'read tools:write' }), tool('write'))).toBe('allow:scoped');
    expect(decide(policy, person('a', { scope: 'read' }), tool('write'))).toBe('deny:default');
    expect(decide(policy, person('a', { azp: 'ci-bot' }), tool('deploy'))).toBe('allow:client');
    expect(decide(policy, callerOf(undefined, null), tool('public_time'))).toBe('allow:guests');
    expect(decide(policy, person('a'), tool('public_time'))).toBe('deny:default');
  });

  it('resources by URI glob, prompts, and any method by name', () => {
    const read = (uri: string) => callOf({ method: 'resources/read', params: { uri } });
    expect(decide(policy, person('alice'), read('file:///docs/a/b.md'))).toBe('allow:docs');
    expect(decide(policy, person('alice'), read('file:///etc/passwd'))).toBe('deny:default');
    expect(decide(policy, person('alice'), callOf({ method: 'prompts/get', params: { name: 'greet' } }))).toBe('allow:prompt');
    expect(decide(policy, person('mallory'), callOf({ method: 'tools/list' }))).toBe('deny:no-lists');
    expect(decide(policy, person('mallory'), callOf({ method: 'resources/templates/list' }))).toBe('deny:no-lists');
    expect(decide(policy, person('alice'), callOf({ method: 'tools/list' }))).toBe('allow:default');
  });

  it('a rule with an argument schema applies only to calls whose arguments satisfy it', () => {
    expect(decide(policy, person('alice'), tool('echo', { text: 'hi' }))).toBe('allow:short-echo');
    expect(decide(policy, person('alice'), tool('echo', { text: 'far too long' }))).toBe('deny:default');
    expect(decide(policy, person('alice'), tool('shell', { command: 'ls /' }))).toBe('allow:shell');
    expect(decide(policy, person('alice'), tool('shell', { command: 'rm -rf / --no-preserve-root' }))).toBe('deny:no-rm-root');
  });

  it('a list shows what a caller may use: approve counts, a deny that depends on the arguments does not hide', () => {
    const listed = (sub: string, name: string) =>
      policy.usable(person(sub), { method: 'tools/call', kind: 'tool', name, arguments: undefined });
    expect(listed('alice', 'echo')).toBe(true);
    expect(listed('alice', 'shell')).toBe(true);
    expect(listed('alice', 'deploy')).toBe(false);
    const asking = compilePolicy(MINIMAL_POLICY);
    expect(asking.usable(person('alice'), { method: 'tools/call', kind: 'tool', name: 'slow', arguments: undefined })).toBe(true);
    expect(asking.usable(person('bob'), { method: 'tools/call', kind: 'tool', name: 'echo', arguments: undefined })).toBe(false);
  });
});

describe('policy files', () => {
  it('reads JSON and YAML alike', () => {
    const yaml = join(folder, 'policy.yaml');
    writeFileSync(yaml, 'default: allow\nrules:\n  - id: no-shell\n    effect: deny\n    tools: [shell]\n    reason: not here\n');
    const policy = compilePolicy(readPolicyFile(yaml));
    expect(decide(policy, person('a'), tool('shell'))).toBe('deny:no-shell');
    expect(decide(policy, person('a'), tool('ls'))).toBe('allow:default');
  });

  it('refuses a file with every problem named by its path', () => {
    const bad = join(folder, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ defualt: 'allow', rules: [{ id: 'x', effect: 'maybe', tools: 'echo', rateLimit: { requests: 0, per: 'soon' } }] }),
    );
    let problems: readonly string[] = [];
    try {
      readPolicyFile(bad);
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyError);
      problems = (error as PolicyError).problems;
    }
    expect(problems).toEqual(
      expect.arrayContaining([
        // Named so a person can fix it: the property, and the values it may take (issue 35).
        '/ has an unknown property "defualt"',
        '/rules/0/effect must be one of: "allow", "deny", "approve"',
        '/rules/0/tools must be array',
        '/rules/0/rateLimit/requests must be >= 1',
        '/rules/0/rateLimit/per must match pattern "^\\d+(ms|s|m|h|d)$"',
      ]),
    );
    expect(() =>
      compilePolicy({
        rules: [
          { id: 'a', effect: 'allow' },
          { id: 'a', effect: 'deny' },
        ],
      }),
    ).toThrow(/used twice/);
    expect(() => compilePolicy({ rules: [{ id: 'a', effect: 'allow', arguments: { type: 'nope' } }] })).toThrow(/not a valid JSON Schema/);
    expect(() => compilePolicy({ rules: [{ id: 'a', tools: ['x'] }] })).toThrow(PolicyError);
    try {
      compilePolicy({ rules: [{ id: 'a', tools: ['x'] }] });
    } catch (error) {
      expect((error as PolicyError).problems).toContain('/rules/0 needs the property "effect"');
    }
    expect(() => compilePolicy('rules: [unclosed')).toThrow(PolicyError);
  });
});

describe('rules naming servers (docs/FEDERATION.md)', () => {
  const policy = compilePolicy({
    default: 'allow',
    rules: [
      { id: 'no-billing', effect: 'deny', servers: ['billing'] },
      { id: 'gh-admin', effect: 'approve', servers: ['github'], tools: ['github__admin_*'] },
    ],
  });
  const to = (server: string | undefined, name: string) => ({ ...tool(name), server });

  it('apply to calls to those servers only, narrowing the names they give', () => {
    expect(decide(policy, person('alice'), to('billing', 'billing__charge'))).toBe('deny:no-billing');
    expect(decide(policy, person('alice'), to('github', 'github__admin_delete'))).toBe('approve:gh-admin');
    expect(decide(policy, person('alice'), to('other', 'github__admin_delete'))).toBe('allow:default');
    expect(decide(policy, person('alice'), to(undefined, 'billing__charge'))).toBe('allow:default');
    expect(policy.usable(person('alice'), to('billing', 'billing__list'))).toBe(false);
  });
});

describe('connections (docs/POLICY.md, "Connections")', () => {
  const policy = compilePolicy({
    rules: [
      { id: 'everyone-in', effect: 'allow', tools: ['*'] },
      { id: 'no-drive-for-contractors', effect: 'deny', claims: { groups: 'contractors' }, connections: ['drive*'], reason: 'staff only' },
      { id: 'bob-out', effect: 'deny', subjects: ['bob'] },
      { id: 'wiki-here', effect: 'deny', servers: ['wiki'], connections: ['*'] },
    ],
  });

  it('only rules naming connections decide one: a deny default and who-only rules do not', () => {
    expect(policy.governsConnections).toBe(true);
    expect(decide(policy, person('alice'), connectionCall('drive'))).toBe('allow:default');
    expect(decide(policy, person('bob'), connectionCall('drive'))).toBe('allow:default');
    expect(decide(policy, person('carl', { groups: ['contractors'] }), connectionCall('drive-eu'))).toBe('deny:no-drive-for-contractors');
    expect(decide(policy, person('carl', { groups: ['contractors'] }), connectionCall('tracker'))).toBe('allow:default');
    // `servers` narrows a connection rule to the servers it names.
    expect(decide(policy, person('alice'), connectionCall('wiki'))).toBe('deny:wiki-here');
    // A rule naming connections is not about calls.
    expect(decide(policy, person('carl', { groups: ['contractors'] }), tool('drive'))).toBe('allow:everyone-in');
    expect(compilePolicy({ rules: [{ id: 'x', effect: 'deny', subjects: ['bob'] }] }).governsConnections).toBe(false);
  });

  it('a connection is allowed or denied, never approved', () => {
    expect(() => compilePolicy({ rules: [{ id: 'ask', effect: 'approve', connections: ['drive'] }] })).toThrow(
      /\/rules\/0 names connections: its effect must be allow or deny/,
    );
  });
});

describe('the published schema', () => {
  it('schema/policy.schema.json is POLICY_SCHEMA (regenerate it when the schema changes)', () => {
    const published = JSON.parse(readFileSync(new URL('../schema/policy.schema.json', import.meta.url), 'utf8')) as unknown;
    expect(published).toEqual(JSON.parse(JSON.stringify(POLICY_SCHEMA)));
  });
});

describe('RateLimiter', () => {
  it('lets `requests` through per window, then says when the next one may come', () => {
    const limiter = new RateLimiter();
    const rule = { requests: 3, perMs: 60_000 };
    const start = 1_000_000;
    for (let i = 0; i < 3; i++) expect(limiter.take('k', rule, start).ok).toBe(true);
    expect(limiter.take('k', rule, start)).toEqual({ ok: false, retryAfterSeconds: 20 });
    expect(limiter.take('other', rule, start).ok).toBe(true);
    expect(limiter.take('k', rule, start + 20_000).ok).toBe(true);
    expect(limiter.take('k', rule, start + 20_000).ok).toBe(false);
  });
});
