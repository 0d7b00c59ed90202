/**
 * server/in-flight.ts in process (no socket needed): flights kept in intrusive lists, not in a
 * long-lived Set or Map (issue 36), still honour every rule of docs/limits.md, "Requests": the
 * per-session and per-principal caps, ending a session's flights (and only its), cancelling one
 * by id from the middle of its session's list, the deadline, the client leaving; and
 * protocol/cancellation.ts, the light stand-in for an AbortSignal.
 */
import { describe, expect, it } from 'vitest';
import { Cancellation } from '../src/protocol/cancellation.js';
import type { JsonRpcResponse } from '../src/protocol/jsonrpc.js';
import type { Reply } from '../src/server/application.js';
import { type Flight, InFlight } from '../src/server/in-flight.js';

const limits = { requestTimeoutMs: 0, perSession: 3, perPrincipal: 5 };
const answer = (id: number): JsonRpcResponse => ({ jsonrpc: '2.0', id, result: {} });

/** A flight whose application answers only when `finish` is called. */
function pendingFlight(inFlight: InFlight, id: number, session: string | undefined, principal: string | null, client?: AbortController) {
  const flight = inFlight.admit(id, session, principal, client);
  let finish!: () => void;
  const reply = inFlight.run(flight, () => new Promise<Reply>((resolve) => (finish = () => resolve(answer(id)))));
  return { flight, reply, finish: () => finish() };
}

const errorCode = async (reply: Promise<Reply>): Promise<unknown> =>
  ((await reply) as { error?: { data?: { code?: string } } }).error?.data?.code ?? 'answered';

describe('requests in flight, in intrusive lists', () => {
  it('caps per session and per principal, and frees a place when a flight in the middle of the list ends', async () => {
    const inFlight = new InFlight(limits, () => Date.now());
    const calls = [1, 2, 3].map((id) => pendingFlight(inFlight, id, 's1', 'alice'));
    expect(() => inFlight.admit(4, 's1', 'alice', undefined)).toThrow(/in this session \(at most 3\)/);
    calls[1]!.finish(); // the middle one
    expect(await calls[1]!.reply).toEqual(answer(2));
    const fourth = pendingFlight(inFlight, 4, 's1', 'alice');
    pendingFlight(inFlight, 5, 's2', 'alice');
    pendingFlight(inFlight, 6, 's2', 'alice');
    expect(() => inFlight.admit(7, 's3', 'alice', undefined)).toThrow(/for this caller \(at most 5\)/);
    // Another person is not held back by alice.
    pendingFlight(inFlight, 8, 's3', 'bob');
    for (const call of [calls[0]!, calls[2]!, fourth]) call.finish();
    inFlight.close();
  });

  it("ends a session's flights and only its own; cancels one by id wherever it sits in the list", async () => {
    const inFlight = new InFlight(limits, () => Date.now());
    const a = [1, 2, 3].map((id) => pendingFlight(inFlight, id, 'a', null));
    const b = pendingFlight(inFlight, 1, 'b', null);
    inFlight.cancel('a', 2);
    expect(await errorCode(a[1]!.reply)).toBe('SG_REQUEST_CANCELLED');
    inFlight.endSession('a');
    expect(await errorCode(a[0]!.reply)).toBe('SG_SESSION_ENDED');
    expect(await errorCode(a[2]!.reply)).toBe('SG_SESSION_ENDED');
    b.finish();
    expect(await b.reply).toEqual(answer(1));
    // The session's place is free again, and a late answer of an ended flight changes nothing.
    a[0]!.finish();
    const again = [4, 5, 6].map((id) => pendingFlight(inFlight, id, 'a', null));
    again.forEach((call) => call.finish());
    await Promise.all(again.map((call) => call.reply));
    inFlight.close();
  });

  it('answers -32001 past the deadline, ends every flight at shutdown, and tells the application through both signals', async () => {
    let now = 0;
    const inFlight = new InFlight({ ...limits, requestTimeoutMs: 40 }, () => now);
    const slow = pendingFlight(inFlight, 1, 's', null);
    const heard: string[] = [];
    slow.flight.signal.addEventListener('abort', () => heard.push('signal'));
    slow.flight.cancellation.addEventListener('abort', () => heard.push('cancellation'));
    now = 100;
    await expect.poll(() => heard, { timeout: 2000 }).toEqual(['signal', 'cancellation']);
    expect(((await slow.reply) as { error: { code: number } }).error.code).toBe(-32001);
    const left = pendingFlight(inFlight, 2, 's', null);
    inFlight.endAll();
    expect(await errorCode(left.reply)).toBe('SG_SHUTTING_DOWN');
  });

  it("the client leaving aborts a flight's cancellation; a flight whose client may leave (resumable) has none", async () => {
    const inFlight = new InFlight(limits, () => Date.now());
    const client = new AbortController();
    const leaving = pendingFlight(inFlight, 1, 's', null, client);
    const staying = pendingFlight(inFlight, 2, 's', null);
    const cancellation = leaving.flight.cancellation;
    client.abort(new Error('gone'));
    expect(cancellation.aborted).toBe(true);
    expect(staying.flight.cancellation.aborted).toBe(false);
    staying.finish();
    leaving.finish();
    inFlight.close();
  });
});

describe('Cancellation', () => {
  it('calls each listener once, in order, not a removed one, none after the abort; an error does not stop the others', () => {
    const errors: unknown[] = [];
    const cancellation = new Cancellation((error) => errors.push(error));
    const heard: number[] = [];
    const second = (): void => void heard.push(2);
    cancellation.addEventListener('abort', () => heard.push(1));
    cancellation.addEventListener('abort', second);
    cancellation.addEventListener('abort', () => {
      throw new Error('listener failed');
    });
    cancellation.addEventListener('abort', () => heard.push(4));
    cancellation.removeEventListener('abort', second);
    cancellation.abort('why');
    expect(heard).toEqual([1, 4]);
    expect(errors).toEqual([new Error('listener failed')]);
    expect(cancellation).toMatchObject({ aborted: true, reason: 'why' });
    cancellation.abort('again');
    cancellation.addEventListener('abort', () => heard.push(5));
    expect(heard).toEqual([1, 4]);
    expect(cancellation.reason).toBe('why');
  });
});

export type { Flight };
