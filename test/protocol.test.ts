/**
 * Wire facts: classification, media types, negotiation, and the failure registry.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_ERRORS } from '../src/client/errors.js';
import { ANSWERS, errorResponse } from '../src/protocol/answers.js';
import { FAILURES, failureAnswer, SessiongateError } from '../src/protocol/failures.js';
import { classify } from '../src/protocol/jsonrpc.js';
import { accepts, mediaTypeEssence } from '../src/protocol/media-type.js';
import { isSessionlessRevision, negotiateRevision } from '../src/protocol/revisions.js';
import { POLICY_ERRORS } from '../src/policy/policy-errors.js';
import { isWellFormedSessionId, mintSessionId, sessionTag } from '../src/session/id.js';

describe('failure registry', () => {
  it('documents every code in docs/errors.md with its status', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, spec] of Object.entries(FAILURES)) {
      expect(doc).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${spec.status}\\s*\\|\\s*${spec.rpc}\\s*\\|`));
    }
  });

  it('documents every policy refusal with its JSON-RPC code', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, spec] of Object.entries(POLICY_ERRORS))
      expect(doc).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${spec.rpc}\\s*\\|`));
  });

  it('documents every in-band answer with its JSON-RPC code', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, spec] of Object.entries(ANSWERS)) expect(doc).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${spec.rpc}\\s*\\|`));
  });

  it('builds every JSON-RPC error answer one way: the registry number, its message or a detail, the stable code in data', () => {
    expect(errorResponse(7, 'SG_RESOURCE_NOT_FOUND', undefined, { uri: 'x:y' })).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32002, message: 'Resource not found', data: { uri: 'x:y', code: 'SG_RESOURCE_NOT_FOUND' } },
    });
    // A detail replaces the message; data cannot hide the code.
    expect(errorResponse(null, 'SG_REQUEST_TIMEOUT', 'no answer in 5 s', { code: 'forged' })).toMatchObject({
      error: { code: -32001, message: 'no answer in 5 s', data: { code: 'SG_REQUEST_TIMEOUT' } },
    });
  });

  it('documents every client error code too', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    for (const code of Object.keys(CLIENT_ERRORS)) expect(doc).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|`));
  });

  it('maps an unknown error to 500/-32603 without leaking its message', () => {
    const answer = failureAnswer(new Error('password=hunter2'));
    expect(answer.status).toBe(500);
    expect(answer.body).not.toContain('hunter2');
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: -32603, data: { code: 'SG_INTERNAL' } } });
  });

  it('maps a known error by its code, keeping its headers and request id', () => {
    const answer = failureAnswer(new SessiongateError('SG_SESSION_LIMIT', undefined, { headers: { 'retry-after': '5' }, requestId: 3 }));
    expect(answer).toMatchObject({ status: 503, headers: { 'retry-after': '5' } });
    expect(JSON.parse(answer.body)).toMatchObject({ id: 3 });
  });
});

describe('classify', () => {
  it('tells initialize, request, notification, response and batch apart', () => {
    expect(classify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }).kind).toBe('initialize');
    expect(classify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }).kind).toBe('request');
    expect(classify({ jsonrpc: '2.0', method: 'notifications/initialized' }).kind).toBe('notification');
    expect(classify({ jsonrpc: '2.0', id: 1, result: {} }).kind).toBe('response');
    expect(classify({ jsonrpc: '2.0', id: null, error: { code: 1, message: 'x' } }).kind).toBe('response');
    expect(classify([{ jsonrpc: '2.0', method: 'a' }]).kind).toBe('batch');
  });

  it('recognises sessionless (2026-07-28) traffic by a protocol version in _meta, whatever its value', () => {
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' };
    expect(classify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } }).kind).toBe('sessionless');
    // Versioning: sessionless _meta is served statelessly, even for initialize; an unknown version is
    // then the sessionless -32022, not a handshake-era 400.
    expect(classify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { _meta: meta } }).kind).toBe('sessionless');
    const unknown = { 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' };
    expect(classify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: unknown } }).kind).toBe('sessionless');
    expect(classify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { progressToken: 1 } } }).kind).toBe('request');
  });

  it('refuses an initialize notification and a batch carrying initialize', () => {
    expect(() => classify({ jsonrpc: '2.0', method: 'initialize' })).toThrow(/request/);
    expect(() => classify([{ jsonrpc: '2.0', id: 1, method: 'initialize' }])).toThrow(/batch/);
  });
});

describe('media types', () => {
  it('parses rather than substring-matching', () => {
    expect(mediaTypeEssence('Application/JSON ; charset=utf-8')).toBe('application/json');
    expect(mediaTypeEssence('application/jsonp')).toBe('application/jsonp');
    expect(accepts('text/*;q=0.5, application/json', 'text/event-stream')).toBe(true);
    expect(accepts('application/json;q=0', 'application/json')).toBe(false);
    expect(accepts('application/jsonx', 'application/json')).toBe(false);
  });
});

describe('revisions', () => {
  it('negotiates the requested revision when supported, else the latest', () => {
    expect(negotiateRevision('2025-06-18')).toBe('2025-06-18');
    expect(negotiateRevision('2024-11-05')).toBe('2025-11-25');
    expect(isSessionlessRevision('2026-07-28')).toBe(true);
    expect(isSessionlessRevision('2027-01-01')).toBe(true);
    expect(isSessionlessRevision('2025-11-25')).toBe(false);
  });
});

describe('session ids (S2)', () => {
  it('are 32 characters of base64url, all different, and the tag never reveals them', () => {
    const ids = Array.from({ length: 10_000 }, mintSessionId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 100)) {
      expect(isWellFormedSessionId(id)).toBe(true);
      expect(id).toMatch(/^[\x21-\x7e]+$/);
      expect(id).not.toContain(sessionTag(id));
    }
  });

  it('use every base64url character about equally (no fixed positions)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) for (const ch of mintSessionId()) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(64);
    const expected = (2000 * 32) / 64;
    for (const n of counts.values()) expect(Math.abs(n - expected)).toBeLessThan(expected * 0.3);
  });
});
