/**
 * @module server/stage
 * A cross-cutting concern around an application (the gateway's hygiene, audit, policy, token
 * exchange), written once as a stage and composed once (`compose`), as Hono's and undici's
 * compose do: each member a stage has is called with `next`, the rest of the chain; a member it
 * lacks costs nothing (the chain skips it), and a stage that is off is simply not in the list
 * (docs/ARCHITECTURE.md, "Stages"). Every stage sees the whole life of a request: `handle`,
 * `receive`, `openStream`, `adopt` (a call picked up after a crash) and `cancel`.
 */
import type { JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.js';
import type { EarlyEnd, McpApplication, OrphanedCall, Reply, RequestContext, SessionPort } from './application.js';

type Handle = (request: JsonRpcRequest, context: RequestContext) => Promise<Reply>;
type Receive = (message: JsonRpcNotification | JsonRpcResponse, context: RequestContext) => void | Promise<void>;
type OpenStream = (context: RequestContext) => AsyncIterable<JsonRpcMessage> | undefined;
type Adopt = (call: OrphanedCall, context: RequestContext) => AsyncIterable<JsonRpcMessage> | undefined;
type Cancel = (request: JsonRpcRequest, context: RequestContext, reason: EarlyEnd) => void;

export interface Stage {
  /** What it is, for whoever reads a composition. */
  readonly name: string;
  handle?(request: JsonRpcRequest, context: RequestContext, next: Handle): Promise<Reply>;
  receive?(message: JsonRpcNotification | JsonRpcResponse, context: RequestContext, next: Receive): void | Promise<void>;
  /** Called only when the application has GET streams. */
  openStream?(context: RequestContext, next: OpenStream): AsyncIterable<JsonRpcMessage> | undefined;
  /** Called only when the application can pick up orphaned calls. */
  adopt?(call: OrphanedCall, context: RequestContext, next: Adopt): AsyncIterable<JsonRpcMessage> | undefined;
  cancel?(request: JsonRpcRequest, context: RequestContext, reason: EarlyEnd, next: Cancel): void;
  /** The server's sessions, once (before the application's own `bind`). */
  bind?(sessions: SessionPort): void;
  /** The server closes (after the application). */
  close?(): Promise<void>;
}

/**
 * The application with `stages` around it, the first outermost. The result has the members the
 * application has (a stage does not give an application GET streams or adoption it lacks).
 */
export function compose(application: McpApplication, stages: readonly Stage[]): McpApplication {
  let handle: Handle = application.handle.bind(application);
  let receive: Receive = application.receive.bind(application);
  let openStream: OpenStream | undefined = application.openStream?.bind(application);
  let adopt: Adopt | undefined = application.adopt?.bind(application);
  let cancel: Cancel | undefined = application.cancel?.bind(application);
  // Inside out; each closure is made once here, and a call through it allocates nothing.
  for (const stage of [...stages].reverse()) {
    if (stage.handle) {
      const [own, next] = [stage.handle.bind(stage), handle];
      handle = (request, context) => own(request, context, next);
    }
    if (stage.receive) {
      const [own, next] = [stage.receive.bind(stage), receive];
      receive = (message, context) => own(message, context, next);
    }
    if (stage.openStream && openStream) {
      const [own, next] = [stage.openStream.bind(stage), openStream];
      openStream = (context) => own(context, next);
    }
    if (stage.adopt && adopt) {
      const [own, next] = [stage.adopt.bind(stage), adopt];
      adopt = (call, context) => own(call, context, next);
    }
    if (stage.cancel) {
      const [own, next] = [stage.cancel.bind(stage), cancel ?? (() => {})];
      cancel = (request, context, reason) => own(request, context, reason, next);
    }
  }
  const composed: McpApplication = { handle, receive };
  if (openStream) composed.openStream = openStream;
  if (adopt) composed.adopt = adopt;
  if (cancel) composed.cancel = cancel;
  // Leaving a federation ends what the application opened upstream (no stage takes part in that).
  if (application.retire) composed.retire = application.retire.bind(application);
  const binds = stages.filter((stage) => stage.bind !== undefined);
  if (binds.length > 0 || application.bind !== undefined)
    composed.bind = (sessions) => {
      for (const stage of binds) stage.bind!(sessions);
      application.bind?.(sessions);
    };
  const closes = stages.filter((stage) => stage.close !== undefined);
  if (closes.length > 0 || application.close !== undefined)
    composed.close = async () => {
      await application.close?.();
      for (const stage of closes) await stage.close!();
    };
  return composed;
}
