/**
 * Properties behind docs/SECURITY.md, checked on random input (fast-check): the resource URI a
 * rule is matched against is exactly what the WHATWG URL parser (the official SDK's first step
 * on every read) makes of what the upstream is sent; the nesting pre-scan agrees with the parsed
 * value; an approval question is answered only by the session and person it was asked of.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeResourceUri } from '../src/protocol/resource-uri.js';
import { jsonNestsDeeperThan } from '../src/protocol/json-depth.js';
import { nestsDeeperThan, type JsonRpcMessage, type JsonRpcResponse } from '../src/protocol/jsonrpc.js';
import { UserApprovals } from '../src/policy/user-approval.js';
import type { RequestContext, SessionPort } from '../src/server/application.js';
import type { SessionRecord } from '../src/store/record.js';

/** Path segments an attacker would try: dot segments in every spelling, escapes, empty ones. */
const segment = fc.oneof(
  fc.constantFrom(
    '.',
    '..',
    '%2e',
    '%2E',
    '.%2e',
    '%2e%2E',
    '%2e.',
    '',
    'public',
    'private',
    'key',
    'A',
    '%41',
    '%7e',
    '~',
    '%2F',
    '%5C',
    '%00',
  ),
  fc.stringMatching(/^[a-zA-Z0-9._~-]{1,6}$/),
  fc.stringMatching(/^(%[0-9a-fA-F]{2}){1,2}$/),
);
const uri = fc
  .tuple(
    fc.constantFrom('secret', 'SECRET', 'file', 'FILE', 'https', 'custom+x', 'urn'),
    fc.constantFrom('://', ':', ':///', '://localhost/', ':////'),
    fc.constantFrom('vault', 'VAULT', 'Example.COM', 'va%41ult', ''),
    fc.array(segment, { maxLength: 6 }),
    fc.constantFrom('', ' ', '\t', '\n'),
    fc.constantFrom('', '?q=%41', '#frag'),
  )
  .map(([scheme, separator, host, segments, blank, tail]) => `${blank}${scheme}${separator}${host}/${segments.join('/')}${tail}${blank}`);

describe('resource URIs (protocol/resource-uri.ts)', () => {
  it('a normal form is what the WHATWG parser makes of it, has no dot or empty segment, and is a fixed point', () => {
    fc.assert(
      fc.property(uri, (input) => {
        const normal = normalizeResourceUri(input);
        if (!('uri' in normal)) return;
        // What the upstream's `new URL()` reads is what the rule saw.
        expect(new URL(normal.uri).href).toBe(normal.uri);
        expect(normalizeResourceUri(normal.uri)).toEqual(normal);
        const path = new URL(normal.uri).pathname;
        const segments = (path.startsWith('/') ? path.slice(1) : path).split('/');
        expect(segments.slice(0, -1)).not.toContain('');
        expect(segments.filter((part) => part === '.' || part === '..' || /^(\.|%2e){1,2}$/i.test(part))).toEqual([]);
        expect(path).not.toMatch(/%(2f|5c|00)/i);
      }),
      { numRuns: 2000 },
    );
  });

  it('two spellings the parser reads as one normalize to one: the typed form never decides', () => {
    fc.assert(
      fc.property(uri, (input) => {
        let parsed: string;
        try {
          parsed = new URL(input).href;
        } catch {
          expect(normalizeResourceUri(input)).toHaveProperty('refused');
          return;
        }
        expect(normalizeResourceUri(input)).toEqual(normalizeResourceUri(parsed));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('nesting bounded before parsing (protocol/json-depth.ts)', () => {
  it('agrees with the parsed value on every JSON text', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'large' }), fc.integer({ min: 0, max: 12 }), (text, limit) => {
        const bytes = new TextEncoder().encode(text);
        expect(jsonNestsDeeperThan(bytes, limit)).toBe(nestsDeeperThan(JSON.parse(text), limit));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('approval answers (policy/user-approval.ts)', () => {
  /** A session as the gate sees it, on a port that holds nothing elsewhere (one process). */
  function contextOf(sessionId: string, principal: string | null, signal: AbortSignal): RequestContext {
    const port = { hold: () => () => {}, toHolders: async () => false } as unknown as SessionPort;
    const record = { id: sessionId, initialize: { capabilities: { elicitation: {} } } } as unknown as SessionRecord;
    const values = new Map<unknown, unknown>();
    return {
      session: { id: sessionId, record, port },
      protocolVersion: '2025-11-25',
      principal,
      clientSessionId: undefined,
      identity: undefined,
      header: () => undefined,
      headers: () => ({}),
      signal,
      get: <T>(key: unknown) => values.get(key) as T | undefined,
      set: (key, value) => void values.set(key, value),
    };
  }

  it('only the asked session and person decide; every other answer is stray', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('s1', 's2', 's3'), fc.constantFrom('alice', 'bob', null)), { minLength: 1, maxLength: 6 }),
        fc.nat({ max: 5 }),
        async (answerers, askedIndex) => {
          const asked = answerers[askedIndex % answerers.length]!;
          const approvals = new UserApprovals(60_000);
          const aborted = new AbortController();
          const context = contextOf(asked[0], asked[1], aborted.signal);
          let outcome: string | undefined;
          const reply = approvals.ask({
            request: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'run', arguments: {} } },
            context,
            call: { method: 'tools/call', kind: 'tool', name: 'run', arguments: {} },
            rule: { id: 'r', effect: 'approve' },
            forward: async () => ({ jsonrpc: '2.0', id: 1, result: { content: [] } }),
            settle: (result) => void (outcome = result),
          }) as AsyncGenerator<JsonRpcMessage>;
          const question = (await reply.next()).value as { id: string };
          const strays: string[] = [];
          const answer: JsonRpcResponse = { jsonrpc: '2.0', id: question.id, result: { action: 'accept', content: {} } };
          for (const [sessionId, principal] of answerers) {
            if (sessionId === asked[0] && principal === asked[1]) continue;
            await approvals.take(answer, contextOf(sessionId, principal, aborted.signal), ({ context: from }) =>
              strays.push(from.session!.id),
            );
          }
          expect(outcome).toBeUndefined(); // nobody else decided
          await approvals.take(answer, context, () => strays.push('asked'));
          expect((await reply.next()).value).toMatchObject({ result: { content: [] } });
          expect(outcome).toBe('approve-accepted');
          expect(strays).not.toContain('asked');
          aborted.abort();
        },
      ),
      { numRuns: 300 },
    );
  });
});
