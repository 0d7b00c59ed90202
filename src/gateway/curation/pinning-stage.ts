/**
 * @module gateway/curation/pinning-stage
 * Tool pinning (docs/CURATION.md, "Pinning"): every `tools/list` answer is compared with the
 * definitions pinned in the store; a changed or added tool is recorded (and audited once), and
 * under `strict` withheld from lists and its calls refused until an operator accepts it. Inside
 * the policy: it sees every tool the server listed, under the server's own names. When a tool
 * a session was not shown comes back (accepted here or on another replica), the session is told
 * its list changed.
 */
import { errorResponse } from '../../protocol/answers.js';
import { SessiongateError } from '../../protocol/failures.js';
import { isObject, type JsonObject, type JsonRpcRequest, type JsonRpcResponse } from '../../protocol/jsonrpc.js';
import { isStreamReply, type Reply, type RequestContext, type SessionPort } from '../../server/application.js';
import type { Stage } from '../../server/stage.js';
import type { EventSink } from '../audit-events.js';
import type { PinMode } from './curation-document.js';
import { DefinitionCache, type PinnedDefinition } from './pinned-definition.js';
import type { ServerPins, ToolPins } from './tool-pins.js';

/** A tool as the upstream side names it: its server, and the server's own name for it. */
export interface ToolPlace {
  server: string;
  tool: string;
}

export interface PinningOptions {
  pins: ToolPins;
  /** Each server's mode (`off` servers are not looked at). */
  mode: (server: string) => PinMode;
  /** Where a listed or called name belongs; undefined for a name no server has. */
  locate: (name: string) => ToolPlace | undefined;
  events: EventSink;
  onError?: (error: unknown) => void;
}

/** What the operator's side tells the stage: a pin changed (accepted, imported), so sessions not shown a tool may see it now. */
export interface PinControls {
  readonly pins: ToolPins;
  pinsChanged(): void;
}

/** Sessions kept per server to be told a withheld tool is back; past it, the oldest are forgotten (they see it at their next list). */
const WAITING_PER_SERVER = 10_000;

export function pinningStage(options: PinningOptions): Stage & PinControls {
  const { pins, mode, locate, events } = options;
  const onError = options.onError ?? (() => {});
  const waiting = new WaitingSessions(pins, onError);
  const definitions = new DefinitionCache();

  /** A list's answer with the changes recorded, and under `strict` without the tools waiting for an operator. */
  const listed = async (response: JsonRpcResponse, context: RequestContext): Promise<JsonRpcResponse> => {
    const tools = 'result' in response ? response.result['tools'] : undefined;
    if (!('result' in response) || !Array.isArray(tools)) return response;
    const byServer = new Map<string, Map<string, PinnedDefinition>>();
    for (const tool of tools) {
      const place = isObject(tool) && typeof tool['name'] === 'string' ? locate(tool['name']) : undefined;
      if (!place || mode(place.server) === 'off') continue;
      let seen = byServer.get(place.server);
      if (!seen) byServer.set(place.server, (seen = new Map<string, PinnedDefinition>()));
      seen.set(place.tool, definitions.of(`${place.server}\0${place.tool}`, tool as JsonObject));
    }
    const complete = response.result['nextCursor'] === undefined;
    const withheld = new Set<string>();
    for (const [server, seen] of byServer) {
      const strict = mode(server) === 'strict';
      try {
        for (const change of await pins.observe(server, seen, complete))
          events.write({ event: 'tool.changed', ...change, mode: strict ? 'strict' : 'warn' });
        if (!strict) continue;
        const pending = [...(await pins.current(server)).pending.keys()];
        for (const tool of pending) withheld.add(`${server}\0${tool}`);
        if (pending.length > 0 && context.session) waiting.add(server, context.session.id, pending);
      } catch (error) {
        // The store did not answer: a strict server's tools are not shown unchecked (fail closed).
        onError(error);
        if (strict) for (const tool of seen.keys()) withheld.add(`${server}\0${tool}`);
      }
    }
    if (withheld.size === 0) return response;
    const shown = tools.filter((tool) => {
      const place = isObject(tool) && typeof tool['name'] === 'string' ? locate(tool['name']) : undefined;
      return !place || !withheld.has(`${place.server}\0${place.tool}`);
    });
    return { ...response, result: { ...response.result, tools: shown } };
  };

  /** A call to a strict server's tool that is waiting for an operator, or that no complete list showed: refused. */
  const checked = async (request: JsonRpcRequest, context: RequestContext, next: Next): Promise<Reply> => {
    const name = request.params?.['name'];
    const place = typeof name === 'string' ? locate(name) : undefined;
    if (!place || mode(place.server) !== 'strict') return next(request, context);
    let current: ServerPins;
    try {
      current = await pins.current(place.server);
    } catch (error) {
      throw new SessiongateError('SG_STORE_UNAVAILABLE', undefined, { cause: error, requestId: request.id });
    }
    const refusal = withheldCall(request, place, current);
    return refusal ?? next(request, context);
  };

  return {
    name: 'pinning',
    pins,
    handle(request, context, next) {
      if (request.method === 'tools/call') return checked(request, context, next);
      if (request.method !== 'tools/list') return next(request, context);
      return next(request, context).then((reply) => mapAsync(reply, (response) => listed(response, context)));
    },
    bind(sessions: SessionPort) {
      waiting.bind(sessions);
    },
    pinsChanged: () => waiting.check(),
    async close() {
      waiting.stop();
    },
  };
}

type Next = (request: JsonRpcRequest, context: RequestContext) => Promise<Reply>;

function withheldCall(request: JsonRpcRequest, { server, tool }: ToolPlace, pins: ServerPins): JsonRpcResponse | undefined {
  const pending = pins.pending.get(tool);
  if (pending) {
    const what =
      pending.change === 'added' ? 'appeared after the tools were pinned' : `changed (${pending.fields.join(', ')}) since it was pinned`;
    return errorResponse(
      request.id,
      'SG_TOOL_WITHHELD',
      `Tool "${tool}" of server "${server}" ${what}: it is withheld until an operator accepts it`,
      {
        server,
        tool,
        change: pending.change,
        fields: pending.fields,
      },
    );
  }
  if (pins.sealed && !pins.accepted.has(tool))
    return errorResponse(
      request.id,
      'SG_TOOL_WITHHELD',
      `Tool "${tool}" of server "${server}" is not among the tools this gateway has pinned: list the tools first`,
      {
        server,
        tool,
      },
    );
  return undefined;
}

/** The reply with its response replaced by `map`'s, awaited (a stream's other messages pass unchanged). */
async function mapAsync(reply: Reply, map: (response: JsonRpcResponse) => Promise<JsonRpcResponse>): Promise<Reply> {
  if (!isStreamReply(reply)) return map(reply);
  return (async function* () {
    for await (const message of reply) yield 'method' in message ? message : await map(message);
  })();
}

/**
 * Sessions that were not shown some tools, by server: when one of those tools is no longer
 * pending (an operator accepted it, on any replica), they are told `tools/list_changed`. Looked
 * at every two seconds while there are any, and at once after an acceptance here.
 */
class WaitingSessions {
  readonly #pins: ToolPins;
  readonly #onError: (error: unknown) => void;
  readonly #byServer = new Map<string, { sessions: Set<string>; tools: Set<string> }>();
  #port: SessionPort | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(pins: ToolPins, onError: (error: unknown) => void) {
    this.#pins = pins;
    this.#onError = onError;
  }

  bind(port: SessionPort): void {
    this.#port = port;
  }

  add(server: string, session: string, tools: readonly string[]): void {
    let entry = this.#byServer.get(server);
    if (!entry) this.#byServer.set(server, (entry = { sessions: new Set(), tools: new Set() }));
    entry.sessions.delete(session);
    entry.sessions.add(session);
    if (entry.sessions.size > WAITING_PER_SERVER) entry.sessions.delete(entry.sessions.values().next().value!);
    for (const tool of tools) entry.tools.add(tool);
    this.#timer ??= setInterval(() => this.check(), 2000).unref();
  }

  check(): void {
    void this.#check().catch(this.#onError);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #check(): Promise<void> {
    for (const [server, entry] of this.#byServer) {
      const pending = (await this.#pins.current(server)).pending;
      if ([...entry.tools].every((tool) => pending.has(tool))) continue;
      this.#byServer.delete(server);
      const message = { jsonrpc: '2.0' as const, method: 'notifications/tools/list_changed' };
      for (const session of entry.sessions) await this.#port?.toStream(session, message).catch(this.#onError);
    }
    if (this.#byServer.size === 0) this.stop();
  }
}
