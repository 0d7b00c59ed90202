import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { record, storeContract } from './helpers/store-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-sqlite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite', async () => new SqliteStore(join(dir, `contract-${n++}.db`)));

describe('SqliteStore durability', () => {
  it('a second store on the same file sees sessions, state and the shared secret', async () => {
    const path = join(dir, 'reopen.db');
    const now = Date.now();
    const first = new SqliteStore(path);
    const r = record(now, { principal: 'p' });
    await first.create(r, { maxSessions: Infinity, maxSessionsPerPrincipal: Infinity, maxAnonymousSessions: Infinity }, now);
    await first.writeState(r.id, 'step', 3);
    const secret = await first.sharedSecret('principal-key', () => 'k1');
    await first.close();
    const second = new SqliteStore(path);
    expect(await second.get(r.id, now)).toEqual({ ...r, state: { step: 3 } });
    expect(await second.sharedSecret('principal-key', () => 'k2')).toBe(secret);
    await second.close();
  });

  it('rejects a bad busyTimeoutMs naming the option', () => {
    expect(() => new SqliteStore(':memory:', { busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
  });
});
