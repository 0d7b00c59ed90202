/**
 * `compose` (server/stage.ts, docs/ARCHITECTURE.md "Stages"), in process: stages run outermost
 * first around every member of a request's life, a member no stage has is the application's
 * own, a stage cannot give an application a member it lacks, and typed request values pass
 * from an inner stage to an outer one through the context (what the audit reads of the policy).
 */
import { describe, expect, it } from 'vitest';
import type { JsonRpcMessage, JsonRpcRequest } from '../src/protocol/jsonrpc.js';
import type { McpApplication, RequestContext, SessionPort } from '../src/server/application.js';
import { requestContext } from '../src/server/context.js';
import { RequestKey } from '../src/server/request-key.js';
import { compose, type Stage } from '../src/server/stage.js';

const request: JsonRpcRequest = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } };

function context(): RequestContext {
  const incoming = { header: () => undefined, headers: () => ({}), identity: undefined, signal: new AbortController().signal };
  return requestContext(incoming as never, {
    session: undefined,
    protocolVersion: '2025-11-25',
    principal: null,
    clientSessionId: undefined,
  });
}

async function* one(message: JsonRpcMessage): AsyncGenerator<JsonRpcMessage> {
  yield message;
}

/** A stage that writes what it sees, before and after the rest of the chain. */
function tracing(name: string, trace: string[]): Stage {
  return {
    name,
    async handle(given, context, next) {
      trace.push(`${name}>`);
      const reply = await next(given, context);
      trace.push(`<${name}`);
      return reply;
    },
    receive(message, context, next) {
      trace.push(`${name}:receive`);
      return next(message, context);
    },
    adopt(call, context, next) {
      trace.push(`${name}:adopt`);
      return next(call, context);
    },
    cancel(given, context, reason, next) {
      trace.push(`${name}:cancel:${reason}`);
      next(given, context, reason);
    },
    bind: () => void trace.push(`${name}:bind`),
    close: () => Promise.resolve(void trace.push(`${name}:close`)),
  };
}

function application(trace: string[]): McpApplication {
  return {
    handle: (given) => {
      trace.push('app');
      return Promise.resolve({ jsonrpc: '2.0', id: given.id, result: {} });
    },
    receive: () => void trace.push('app:receive'),
    adopt: () => {
      trace.push('app:adopt');
      return one({ jsonrpc: '2.0', id: 1, result: {} });
    },
    bind: () => void trace.push('app:bind'),
    close: () => Promise.resolve(void trace.push('app:close')),
  };
}

describe('compose', () => {
  it('runs the stages outermost first around every member, the application innermost', async () => {
    const trace: string[] = [];
    const composed = compose(application(trace), [tracing('outer', trace), tracing('inner', trace)]);
    await composed.handle(request, context());
    expect(trace.splice(0)).toEqual(['outer>', 'inner>', 'app', '<inner', '<outer']);
    await composed.receive({ jsonrpc: '2.0', method: 'notifications/initialized' }, context());
    expect(trace.splice(0)).toEqual(['outer:receive', 'inner:receive', 'app:receive']);
    const adopted = composed.adopt!({ requestId: 1, cursor: 'c' }, context());
    for await (const message of adopted ?? []) expect(message).toMatchObject({ id: 1 });
    expect(trace.splice(0)).toEqual(['outer:adopt', 'inner:adopt', 'app:adopt']);
    // The application has no cancel: the stages' still run, and the chain ends quietly.
    composed.cancel!(request, context(), 'timeout');
    expect(trace.splice(0)).toEqual(['outer:cancel:timeout', 'inner:cancel:timeout']);
    composed.bind!({} as SessionPort);
    expect(trace.splice(0)).toEqual(['outer:bind', 'inner:bind', 'app:bind']);
    await composed.close!();
    expect(trace.splice(0)).toEqual(['app:close', 'outer:close', 'inner:close']);
  });

  it('adds nothing a stage lacks, and never a member the application lacks', async () => {
    const trace: string[] = [];
    const app: McpApplication = { handle: application(trace).handle, receive: () => {} };
    const composed = compose(app, [{ name: 'only-handle', handle: (given, context, next) => next(given, context) }]);
    expect([composed.openStream, composed.adopt, composed.cancel, composed.bind, composed.close]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    const streaming = compose(app, [{ name: 'streams', openStream: (context, next) => next(context) }]);
    expect(streaming.openStream).toBeUndefined();
    await compose(app, []).handle(request, context());
    expect(trace).toEqual(['app']);
  });

  it('passes a typed value from an inner stage to an outer one on the request, never to another request', async () => {
    const VERDICT = new RequestKey<{ decision: string }>('test.verdict');
    const seen: ({ decision: string } | undefined)[] = [];
    const outer: Stage = {
      name: 'reader',
      async handle(given, context, next) {
        const reply = await next(given, context);
        seen.push(context.get(VERDICT));
        return reply;
      },
    };
    const inner: Stage = {
      name: 'writer',
      handle(given, context, next) {
        if (given.id === 1) context.set(VERDICT, { decision: 'allow' });
        return next(given, context);
      },
    };
    const composed = compose(application([]), [outer, inner]);
    await composed.handle(request, context());
    await composed.handle({ ...request, id: 2 }, context());
    expect(seen).toEqual([{ decision: 'allow' }, undefined]);
  });
});
