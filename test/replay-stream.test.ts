/**
 * The reader of a resumed call's stream (src/server/resume/replay-stream.ts) in process: two
 * recorders on one log stand for two replicas on one store. Events are sent before they are
 * written, so a client that left can resume on the other replica before the writer has
 * written anything: the reader looks for the stream a while before it takes it for unknown.
 */
import { afterEach, expect, it } from 'vitest';
import { FIRST_WRITE_GRACE_MS, replayStream } from '../src/server/resume/replay-stream.js';
import { StreamRecorder } from '../src/server/resume/stream-recorder.js';
import { parseEventId } from '../src/server/resume/event-ids.js';
import { DEFAULT_RESUME } from '../src/server/resume/resume-options.js';
import { MemoryStreamLog } from '../src/store/memory/memory-stream-log.js';

const recorders: StreamRecorder[] = [];
afterEach(async () => {
  for (const recorder of recorders.splice(0)) await recorder.close();
});

function replicas(): [StreamRecorder, StreamRecorder] {
  const log = new MemoryStreamLog();
  const fail = (error: unknown): never => {
    throw error;
  };
  const made: [StreamRecorder, StreamRecorder] = [
    new StreamRecorder(log, DEFAULT_RESUME, Date.now, fail),
    new StreamRecorder(log, DEFAULT_RESUME, Date.now, fail),
  ];
  recorders.push(...made);
  return made;
}

async function readAll(stream: AsyncGenerator<string>): Promise<string[]> {
  const events: string[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

const neverAdopt = (): Promise<boolean> => Promise.resolve(false);

it('a stream its writer has not written yet, asked of another replica, is found once written', async () => {
  const [writer, reader] = replicas();
  const stream = writer.open('s1', 'c', 7);
  const first = stream.record({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p', progress: 1 } });
  const from = parseEventId(/^id: (\S+)$/m.exec(first)![1]!)!;
  // The client "left" after event 1 and asks the other replica before anything was written.
  expect(await writer.log.read('s1', from.streamId, 0, 10, Date.now())).toBeUndefined();
  const resumed = readAll(replayStream(reader, 's1', { ...from, seq: 0 }, new AbortController().signal, Date.now, neverAdopt));
  stream.record({ jsonrpc: '2.0', id: 7, result: { content: [] } });
  stream.finish();
  const events = await resumed;
  expect(events).toHaveLength(2);
  expect(events[1]).toContain('"id":7');
});

it('an id no replica writes is an empty stream, after the grace and not before', async () => {
  const [, reader] = replicas();
  let clock = 1_000_000;
  const started = clock;
  const from = parseEventId('cAAAAAAAAAAAAAAAAAAAAAA.3')!;
  const ticking = (): number => (clock += 500);
  const events = await readAll(replayStream(reader, 's1', from, new AbortController().signal, ticking, neverAdopt));
  expect(events).toEqual([]);
  expect(clock - started).toBeGreaterThanOrEqual(FIRST_WRITE_GRACE_MS);
});
