/**
 * The tamper-evident audit log: a real gateway's lines (sessions, calls, errors, policy
 * decisions, ends) verify with `sessiongate audit verify`; one edited, removed, reordered or
 * inserted line is reported at its line number; rotation keeps the chain across files; signed
 * checkpoints verify and a rewritten chain fails them; a SIGKILL and a torn last line leave a
 * chain that verifies up to a reported truncated tail, and a restart resumes it.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/gateway/audit-log/audit-log.js';
import { lineHash } from '../src/gateway/audit-log/audit-chain.js';
import type { AuditEvent } from '../src/gateway/audit-events.js';
import { runCli, startCli } from './helpers/demo-process.js';
import { startGateway } from './helpers/in-process-gateway.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-audit-chain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').slice(0, -1);
const write = (file: string, text: string[]): void => writeFileSync(file, text.map((line) => `${line}\n`).join(''));
const verify = (...args: string[]) => runCli(['audit', 'verify', ...args]);

function event(n: number): AuditEvent {
  return {
    event: 'request',
    session: 'abcd1234',
    principal: null,
    identity: null,
    clientSessionId: null,
    method: 'tools/call',
    name: `tool-${n}`,
    outcome: 'result',
    code: null,
    durationMs: n / 7,
  };
}

/** Writes `count` events through an AuditLog and closes it. */
async function logged(file: string, count: number, options: ConstructorParameters<typeof AuditLog>[1] = {}): Promise<void> {
  const log = new AuditLog(file, options);
  for (let n = 1; n <= count; n++) log.write(event(n));
  await log.close();
}

const policy = join(dir, 'policy.json');
writeFileSync(
  policy,
  JSON.stringify({
    default: 'allow',
    rules: [{ id: 'no-whoami', effect: 'deny', tools: ['whoami'], reason: 'not today' }],
  }),
);

describe('a real gateway', () => {
  const file = join(dir, 'gateway.jsonl');

  it('verifies every audited path; an edited, removed, reordered or inserted line is reported where it is', async () => {
    const gateway = await startGateway([
      ...['--port', '0', '--store', 'memory', '--demo-upstream', '--audit', file, '--policy', policy, '--replica-id', 'gw-1'],
      ...['--admin-token', 'audit-chain-admin-token-0123456789'],
    ]);
    try {
      const client = new Client({ name: 'audit-chain', version: '1' });
      const transport = new StreamableHTTPClientTransport(new URL(gateway.url));
      await client.connect(transport);
      await client.listTools();
      await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      await client.callTool({ name: 'whoami', arguments: {} }).catch(() => undefined); // denied by the policy
      await client.callTool({ name: 'echo', arguments: {} }).catch(() => undefined); // invalid arguments
      await client.request({ method: 'nope/nothing', params: {} }, {} as never).catch(() => undefined);
      await transport.terminateSession();
      await client.close();
      // A session the admin API ends.
      const second = new Client({ name: 'audit-chain-2', version: '1' });
      const secondTransport = new StreamableHTTPClientTransport(new URL(gateway.url));
      await second.connect(secondTransport);
      const ended = await fetch(gateway.url.replace(/\/mcp$/, `/admin/sessions/${secondTransport.sessionId}`), {
        method: 'DELETE',
        headers: { authorization: 'Bearer audit-chain-admin-token-0123456789' },
      });
      expect(ended.status).toBe(200);
      await second.close();
    } finally {
      await gateway.kill();
    }
    const written = lines(file);
    const events = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(new Set(events.map((line) => line['event']))).toEqual(new Set(['audit.started', 'session.created', 'request', 'session.ended']));
    expect(events.map((line) => line['decision'])).toContain('deny');
    expect(events.map((line) => line['reason'])).toContain('admin');
    expect(events.every((line) => line['replica'] === 'gw-1')).toBe(true);
    expect(events.map((line) => line['seq'])).toEqual(written.map((_, i) => i + 1));

    const ok = await verify(file);
    expect(ok.stdout).toBe(`ok: ${written.length} lines\n`);
    expect(ok.code).toBe(0);

    const at = 4; // a request line in the middle
    const tampered = join(dir, 'tampered.jsonl');
    const cases: [string, string[], string][] = [
      ['edited', written.map((line, i) => (i === at - 1 ? line.replace('"tools/list"', '"tools/call"') : line)), 'hash does not match'],
      ['removed', written.filter((_, i) => i !== at - 1), 'prev is not the hash'],
      ['reordered', [...written.slice(0, at - 1), written[at]!, written[at - 1]!, ...written.slice(at + 1)], 'prev is not the hash'],
      ['inserted', [...written.slice(0, at - 1), written[1]!, ...written.slice(at - 1)], 'prev is not the hash'],
    ];
    expect(written[at - 1]).toContain('"tools/list"');
    for (const [how, text, why] of cases) {
      write(tampered, text);
      const result = await verify(tampered);
      expect({ how, code: result.code, stdout: result.stdout }).toMatchObject({
        how,
        code: 1,
        stdout: expect.stringContaining(`broken: ${tampered}:${at}: `) as string,
      });
      expect(result.stdout).toContain(why);
    }
  }, 60_000);

  it('after a SIGKILL and a torn last line, verifies up to the reported truncated tail; a restart resumes the chain', async () => {
    const killed = join(dir, 'killed.jsonl');
    const args = ['--port', '0', '--store', 'memory', '--demo-upstream', '--audit', killed, '--replica-id', 'gw-2'];
    const gateway = await startCli(args);
    const client = new Client({ name: 'killed', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url)));
    for (let i = 0; i < 5; i++) await client.callTool({ name: 'echo', arguments: { text: `n${i}` } });
    await expect.poll(() => lines(killed).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(7);
    await gateway.kill('SIGKILL');
    await client.close().catch(() => undefined);
    // A write the kill cut short: the last line loses its second half (and its newline).
    const size = statSync(killed).size;
    const last = lines(killed).at(-1)!;
    truncateSync(killed, size - 1 - Math.floor(last.length / 2));
    const whole = lines(killed).length;

    const torn = await verify(killed);
    expect(torn.code).toBe(0);
    expect(torn.stdout).toBe(`ok: ${whole} lines\n`);
    expect(torn.stderr).toContain(`${killed}:${whole + 1}: truncated`);

    const restarted = await startCli(args);
    await restarted.kill();
    const resumed = await verify(killed);
    expect(resumed.stdout).toBe(`ok: ${whole + 1} lines\n`);
    expect(resumed.stderr).toContain(`${killed}:${whole + 1}: a line cut short by a crash`);
    const started = JSON.parse(lines(killed)[whole + 1]!) as Record<string, unknown>;
    expect(started).toMatchObject({ event: 'audit.started', seq: whole + 1, truncatedBytes: Math.ceil(last.length / 2) });
  }, 60_000);
});

describe('rotation', () => {
  it('starts each file with the last hash of the one before: the files verify together, in order, and a later one alone', async () => {
    const folder = join(dir, 'rotating');
    const file = join(folder, 'audit.jsonl');
    await logged(file, 60, { rotateBytes: 4000, replica: 'r' });
    const rotated = readdirSync(folder)
      .filter((name) => name !== 'audit.jsonl')
      .sort()
      .map((name) => join(folder, name));
    expect(rotated.length).toBeGreaterThanOrEqual(2);
    const all = [...rotated, file];
    const total = all.reduce((sum, part) => sum + lines(part).length, 0);
    expect(total).toBe(61 + rotated.length); // started, 60 events, one `audit.rotated` per new file
    expect((await verify(...all)).stdout).toBe(`ok: ${total} lines\n`);

    const firstOfCurrent = JSON.parse(lines(file)[0]!) as Record<string, unknown>;
    const lastOfPrevious = JSON.parse(lines(rotated.at(-1)!).at(-1)!) as Record<string, unknown>;
    expect(firstOfCurrent).toMatchObject({ event: 'audit.rotated', prev: lastOfPrevious['hash'] });

    const alone = await verify(file);
    expect(alone.code).toBe(0);
    expect(alone.stderr).toContain('continues from');
    const swapped = await verify(file, ...rotated);
    expect(swapped.code).toBe(1);
  });

  it('keeps an event written after close in the file, on the chain (never on stdout)', async () => {
    const file = join(dir, 'late.jsonl');
    const log = new AuditLog(file, { replica: 'late' });
    log.write(event(1));
    await log.close();
    log.write(event(2)); // a session ended during shutdown, after the log was closed
    await log.close();
    expect(lines(file)).toHaveLength(3);
    expect((await verify(file)).stdout).toBe('ok: 3 lines\n');
    // Signed, the late line gets a final checkpoint of its own: the log still ends signed.
    const keys = generateKeyPairSync('ed25519');
    const signed = join(dir, 'late-signed.jsonl');
    const signing = new AuditLog(signed, { replica: 'late-signed', signingKey: keys.privateKey });
    signing.write(event(1));
    await signing.close();
    signing.write(event(2));
    await signing.close();
    const key = join(dir, 'late.pub');
    writeFileSync(key, keys.publicKey.export({ type: 'spki', format: 'pem' }));
    expect((await verify(signed, '--public-key', key)).stdout).toBe('ok: 5 lines, 2 signed checkpoints\n');
  });

  it('rotates a file older than the interval at its next line', async () => {
    const folder = join(dir, 'aging');
    const file = join(folder, 'audit.jsonl');
    const log = new AuditLog(file, { rotateMs: 50, replica: 'r' });
    log.write(event(1));
    await new Promise((resolve) => setTimeout(resolve, 60)); // the interval itself is what is tested
    log.write(event(2));
    await log.close();
    expect(readdirSync(folder)).toHaveLength(2);
  });
});

describe('signed checkpoints', () => {
  const pair = (): { privateKey: KeyObject; publicKey: KeyObject } => generateKeyPairSync('ed25519');
  const pem = (name: string, key: KeyObject): string => {
    const path = join(dir, name);
    writeFileSync(path, key.export({ type: 'spki', format: 'pem' }));
    return path;
  };

  it('verify with the public key; another key, or a chain rewritten after an edit, fails', async () => {
    const keys = pair();
    const file = join(dir, 'signed.jsonl');
    await logged(file, 12, { signingKey: keys.privateKey, checkpointEvery: 5, replica: 'signer' });
    const written = lines(file);
    // started, 5 events, checkpoint, 5 events, checkpoint, 2 events, checkpoint (at close)
    expect(written.filter((line) => line.includes('"audit.checkpoint"'))).toHaveLength(3);
    const publicKey = pem('signer.pub', keys.publicKey);
    expect((await verify(file, '--public-key', publicKey)).stdout).toBe(`ok: ${written.length} lines, 3 signed checkpoints\n`);

    const stranger = await verify(file, '--public-key', pem('stranger.pub', pair().publicKey));
    expect(stranger.code).toBe(1);
    expect(stranger.stdout).toContain(`${file}:7: the checkpoint signature does not verify`);

    // A forger edits line 3 and recomputes every hash after it: the chain alone holds again,
    // the next checkpoint's signature does not.
    const rewritten: string[] = [];
    let prev = '';
    for (const [i, line] of written.entries()) {
      const fields = JSON.parse(line) as Record<string, unknown>;
      if (i === 2) fields['name'] = 'innocent';
      if (i > 0) fields['prev'] = prev;
      fields['hash'] = lineHash(fields);
      prev = fields['hash'] as string;
      rewritten.push(JSON.stringify(fields));
    }
    const forged = join(dir, 'forged.jsonl');
    write(forged, rewritten);
    expect((await verify(forged)).code).toBe(0); // documented: a chain without a key is evidence only against careless edits
    const caught = await verify(forged, '--public-key', publicKey);
    expect(caught.code).toBe(1);
    expect(caught.stdout).toContain(`${forged}:7: the checkpoint signature does not verify`);
  });

  it('a chain without any checkpoint fails verification with a public key', async () => {
    const file = join(dir, 'unsigned.jsonl');
    await logged(file, 3, { replica: 'plain' });
    const result = await verify(file, '--public-key', pem('any.pub', pair().publicKey));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `${file}:1: replica plain's last 3 lines follow its last checkpoint and no final checkpoint ends the log`,
    );
  });

  describe('a key holder forging without the key', () => {
    const keys = pair();
    const original = join(dir, 'to-forge.jsonl');
    let publicKey = '';
    let written: string[] = [];
    const forge = async (name: string, text: string[], ...flags: string[]) => {
      const file = join(dir, name);
      write(file, text);
      return { file, result: await verify(file, '--public-key', publicKey, '--checkpoint-every', '5', ...flags) };
    };
    /** The lines re-chained from `from` on, as a forger with write access but no key would. */
    const rechained = (text: string[], from: number): string[] => {
      let prev = (JSON.parse(text[from - 1]!) as { hash: string }).hash;
      return text.map((line, i) => {
        if (i < from) return line;
        const fields = JSON.parse(line) as Record<string, unknown>;
        fields['seq'] = (JSON.parse(text[from - 1]!) as { seq: number }).seq + (i - from) + 1;
        fields['prev'] = prev;
        fields['hash'] = lineHash(fields);
        prev = fields['hash'] as string;
        return JSON.stringify(fields);
      });
    };

    beforeAll(async () => {
      await logged(original, 12, { signingKey: keys.privateKey, checkpointEvery: 5, replica: 'signer' });
      written = lines(original);
      publicKey = pem('forge.pub', keys.publicKey);
      // started, 5 events, checkpoint, 5 events, checkpoint, 2 events, final checkpoint
      expect(JSON.parse(written.at(-1)!)).toMatchObject({ event: 'audit.checkpoint', final: true });
    });

    it('the clean log verifies; every clean shutdown ends in a signed final checkpoint, even right after one', async () => {
      expect((await verify(original, '--public-key', publicKey, '--checkpoint-every', '5')).code).toBe(0);
      const even = join(dir, 'even.jsonl');
      await logged(even, 5, { signingKey: keys.privateKey, checkpointEvery: 5, replica: 'even' });
      expect(
        lines(even)
          .slice(-2)
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      ).toMatchObject([{ event: 'audit.checkpoint' }, { event: 'audit.checkpoint', final: true }]);
      expect((await verify(even, '--public-key', publicKey)).code).toBe(0);
    });

    it('the tail cut off, with the final checkpoint or at an earlier one, fails naming the line', async () => {
      const cut = await forge('cut.jsonl', written.slice(0, -1));
      expect(cut.result.code).toBe(1);
      expect(cut.result.stdout).toContain(`${cut.file}:14: replica signer's last 2 lines follow its last checkpoint`);
      const atCheckpoint = await forge('cut-at-checkpoint.jsonl', written.slice(0, 7));
      expect(atCheckpoint.result.code).toBe(1);
      expect(atCheckpoint.result.stdout).toContain(
        `${atCheckpoint.file}:7: replica signer's log ends at a checkpoint that is not its run's final one`,
      );
      // A log still being written says so instead: --open.
      const open = await forge('open.jsonl', written.slice(0, -1), '--open');
      expect(open.result.code).toBe(0);
      expect(open.result.stderr).toContain('not yet signed: the log is open');
    });

    it('lines erased and the rest re-hashed, later checkpoints dropped, fails', async () => {
      // Lines 9 and 10 (two events after the first checkpoint) erased, the rest re-chained, the checkpoints after them dropped.
      const kept = [...written.slice(0, 8), ...written.slice(10)].filter((line, i) => i < 7 || !line.includes('"audit.checkpoint"'));
      const { file, result } = await forge('erased.jsonl', rechained(kept, 8));
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`${file}:8: replica signer's last`);
    });

    it('an invented restart (a stdout chain begun inside the file) blaming another person fails', async () => {
      const restart = {
        time: new Date().toISOString(),
        replica: 'signer',
        event: 'audit.started',
        sink: 'stdout',
        seq: 1,
        prev: '0'.repeat(64),
      };
      const blame = { ...restart, event: 'request', method: 'tools/call', name: 'rm', principal: 'bob', seq: 2 };
      const started = { ...restart, hash: lineHash(restart) };
      const blamed = { ...blame, prev: started.hash, hash: '' };
      blamed.hash = lineHash(blamed);
      const { file, result } = await forge('restart.jsonl', [...written.slice(0, 9), JSON.stringify(started), JSON.stringify(blamed)]);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`${file}:10: a new run begins, but replica signer's run before it has no final checkpoint`);
      // After the final checkpoint too: the invented run is covered by no signature.
      const after = await forge('restart-after-end.jsonl', [...written, JSON.stringify(started), JSON.stringify(blamed)]);
      expect(after.result.code).toBe(1);
      expect(after.result.stdout).toContain('no final checkpoint ends the log');
    });

    it('garbage appended fails, with or without a newline; more lines than --checkpoint-every between checkpoints fail', async () => {
      const file = join(dir, 'garbage.jsonl');
      writeFileSync(file, `${written.join('\n')}\n{"garbage`);
      const result = await verify(file, '--public-key', publicKey);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('no signature covers it');
      const newline = await forge('garbage-newline.jsonl', [...written, 'garbage']);
      expect(newline.result.code).toBe(1);
      const long = join(dir, 'long.jsonl');
      await logged(long, 12, { signingKey: keys.privateKey, checkpointEvery: 10, replica: 'long' });
      const strict = await verify(long, '--public-key', publicKey, '--checkpoint-every', '5');
      expect(strict.code).toBe(1);
      expect(strict.stdout).toContain('more than 5 lines without a checkpoint');
    });

    it('without a key the report says plainly what is not proven', async () => {
      const result = await verify(original);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('without --public-key only edits in place are found');
    });
  });
});

describe('lines are lines for every reader', () => {
  it('U+2028, U+2029 and U+0085 from a client-chosen name are escaped, and the chain still verifies', async () => {
    const file = join(dir, 'separators.jsonl');
    const log = new AuditLog(file, { replica: 'separators' });
    log.write({ ...(event(1) as Extract<AuditEvent, { event: 'request' }>), name: 'a\u2028b\u2029c\u0085d' });
    await log.close();
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/[\u2028\u2029\u0085]/);
    expect(text).toContain('a\\u2028b\\u2029c\\u0085d');
    expect(text.split(/\r?\n|\u2028|\u2029|\u0085/).filter(Boolean)).toHaveLength(2);
    expect((JSON.parse(lines(file)[1]!) as { name: string }).name).toBe('a\u2028b\u2029c\u0085d');
    expect((await verify(file)).stdout).toBe('ok: 2 lines\n');
  });
});
