/**
 * @module gateway/federation/federation
 * Many MCP servers behind one endpoint (docs/FEDERATION.md). A downstream session owns one
 * upstream session per server, each the ordinary http or stdio upstream application (so each
 * self-heals, survives restarts, and is ended with the session), each with its own part of the
 * record (member-view.ts). The federation answers initialize itself, merges lists, routes each
 * call to its server by name or URI, keeps the servers' own ids apart (federated-ids.ts), and
 * keeps a server that is down, slow or crashing from touching the others.
 */
import { errorResponse } from '../../protocol/answers.js';
import { OptionError } from '../../protocol/options.js';
import { setMaxListeners } from 'node:events';
import { isUpstreamFailure, upstreamFailure } from '../upstreams/upstream-failure.js';
import { LIST_CHANGED_NOTIFICATIONS, LIST_METHODS } from '../../protocol/lists.js';
import {
  isString,
  type JsonRpcMessage,
  type JsonRpcNotification,
  type JsonObject,
  type JsonRpcRequest,
  type JsonRpcResponse,
  requestKey,
} from '../../protocol/jsonrpc.js';
import { checkOptions, option, type OptionsSchema, required } from '../../protocol/options.js';
import {
  type EarlyEnd,
  isStreamReply,
  type McpApplication,
  type OrphanedCall,
  plainApplication,
  type Reply,
  responseOf,
  type RequestContext,
  type SessionPort,
} from '../../server/application.js';
import { MessageQueue } from '../../server/message-queue.js';
import { guarded, stateSlot } from '../../session/state-slot.js';
import { requireSession } from '../upstreams/require-session.js';
import { fromClient, serverCursor, toClient } from './federated-ids.js';
import { type FederatedServer, Member, type ServerState } from './member.js';
import type { MemberContext } from './member-view.js';
import { type ListSources, mergedList, type Page, pageOf } from './merged-lists.js';
import { separatorProblem, ServerNames, SERVER_NAME } from './names.js';
import { OwedNotices } from './owed-notices.js';
import { RequestRoutes, resourceNotFound } from './request-routes.js';
import { mergedCapabilities, mergedInstructions } from './merged-initialize.js';

export interface FederationOptions {
  /** The servers, in configuration order (the order of lists and of the resource collision rule). Required. */
  servers: readonly FederatedServer[];
  /** Between a server's name and its tool or prompt's (names.ts). Default `__`. */
  namespaceSeparator?: string;
  /** Open every server's upstream session at the downstream initialize instead of on first use. Default false. */
  eagerUpstreams?: boolean;
  /** Close a server's upstream session unused this long (ms; the downstream session lives on). Default 0: never. */
  upstreamIdleTimeoutMs?: number;
  /** The longest a list waits for one server (ms); past it the server is left out of that page. Default 10 000. */
  listTimeoutMs?: number;
  onError?: (error: unknown) => void;
}

export const federationSchema = {
  servers: required(
    option.custom('must be a non-empty list of servers with distinct [a-z0-9-] names', (value) => {
      if (!Array.isArray(value) || value.length === 0) return false;
      const names = value.map((server: unknown) =>
        typeof server === 'object' && server !== null ? (server as { name?: unknown }).name : undefined,
      );
      return names.every((name) => typeof name === 'string' && SERVER_NAME.test(name)) && new Set(names).size === names.length;
    }),
  ),
  namespaceSeparator: option.custom(
    'must be 1 to 8 characters, at least one outside [a-z0-9-], no spaces or "/"',
    (value) => typeof value === 'string' && separatorProblem(value) === undefined,
  ),
  eagerUpstreams: option.boolean,
  upstreamIdleTimeoutMs: option.nonNegativeNumber,
  listTimeoutMs: option.positiveInteger,
  onError: option.func,
} satisfies OptionsSchema;

/** A server's health, as /healthz?servers=1 and the metrics show it. */
export interface ServerHealth {
  name: string;
  target: string;
  state: ServerState;
  problem?: string;
  /** Down only in that it has not answered in time yet (it may be starting). */
  slow?: boolean;
}

/**
 * The policy's last word on a request whose server only routing settles (a resource's read,
 * subscription or completion): a refusal to answer instead of sending it to `server`, or
 * undefined to send it (docs/POLICY.md, "Servers").
 */
export type ServerCheck = (request: JsonRpcRequest, context: RequestContext, server: string) => JsonRpcResponse | undefined;

export interface FederationApplication extends McpApplication {
  /** Asks every server what it is (capabilities, health) once; resolves when all answered or failed. */
  start(): Promise<void>;
  servers(): ServerHealth[];
  /** How it names its servers' tools and prompts (`NAME__tool`): the curation and the pins read names as it does. */
  readonly names: ServerNames;
  /** The server a request goes to (for policy and audit); undefined for one it does not name. */
  serverOf(request: Pick<JsonRpcRequest, 'method' | 'params'>): string | undefined;
  /** Every request for a resource is checked with `check` for the server it is about to reach, whoever's listing routed it there. */
  guard(check: ServerCheck): void;
  /**
   * Tells the sessions listening here (their GET stream) whose caller `which` picks that every
   * list changed: a person who connected a server sees its tools (docs/CREDENTIALS.md).
   */
  listsChanged(which: (context: RequestContext) => boolean): void;
  /**
   * Changes the servers while it serves (docs/FEDERATION.md, "Reloading"): `remove` are closed
   * (their calls in flight fail, their upstream sessions end), `add` are probed and join, and
   * `order` is the configuration order after the change. Sessions listening here are told that
   * every list changed.
   */
  reconfigure(change: ServerChange): Promise<void>;
}

/** What a reload changes in a federation: servers gone, servers new (or changed: removed and added under the same name), the order after. */
export interface ServerChange {
  remove: readonly string[];
  add: readonly FederatedServer[];
  order: readonly string[];
}

/** The log level the client set, replayed into servers opened after it. */
const LEVEL = stateSlot('sessiongate.federation.level', guarded(isString));

export function federation(options: FederationOptions): FederationApplication {
  checkOptions(federationSchema, options);
  const federated = new Federation(options);
  return Object.assign(plainApplication(federated), {
    names: federated.names,
    start: () => federated.start(),
    servers: () => federated.servers(),
    serverOf: (request: Pick<JsonRpcRequest, 'method' | 'params'>) => federated.serverOf(request),
    guard: (check: ServerCheck) => federated.guard(check),
    reconfigure: (change: ServerChange) => federated.reconfigure(change),
    listsChanged: (which: (context: RequestContext) => boolean) => federated.listsChanged(which),
  });
}

class Federation implements McpApplication {
  #members: Member[];
  readonly names: ServerNames;
  #routes: RequestRoutes;
  readonly #options: FederationOptions;
  readonly #onError: (error: unknown) => void;
  /** Calls in flight by session and request id: where a client's cancellation goes. */
  readonly #calls = new Map<string, Member>();
  readonly #owed: OwedNotices;
  /** Downstream GET streams open here: servers opened later join them. */
  readonly #listening = new Map<string, { context: RequestContext; merge: (member: Member) => void }>();
  #port: SessionPort | undefined;
  #check: ServerCheck | undefined;
  readonly #idleSweep: ReturnType<typeof setInterval> | undefined;

  constructor(options: FederationOptions) {
    this.#options = options;
    this.#onError = options.onError ?? (() => {});
    this.names = new ServerNames(options.namespaceSeparator);
    this.#members = options.servers.map((server, index) => this.#member(server, index));
    this.#routes = new RequestRoutes(this.#members, this.names);
    this.#owed = new OwedNotices(() => this.#port, this.#onError);
    const idleMs = options.upstreamIdleTimeoutMs ?? 0;
    if (idleMs > 0) {
      this.#idleSweep = setInterval(() => this.#closeIdle(idleMs), Math.max(idleMs / 2, 50));
      this.#idleSweep.unref();
    }
  }

  async start(): Promise<void> {
    await Promise.all(this.#members.map((member) => member.check()));
  }

  async reconfigure({ remove, add, order }: ServerChange): Promise<void> {
    const kept = this.#members.filter((member) => !remove.includes(member.name));
    const joining = add.map((server) => this.#member(server, 0));
    const byName = new Map([...kept, ...joining].map((member) => [member.name, member]));
    if (order.length !== byName.size || order.some((name) => !byName.has(name)))
      throw new OptionError('order', 'sessiongate: reconfigure: order must name every server after the change, once');
    const retired = this.#members.filter((member) => remove.includes(member.name));
    this.#members = order.map((name, index) => Object.assign(byName.get(name)!, { index }));
    // Routes learned from the old servers' lists are dropped; the next lists teach the new ones.
    this.#routes = new RequestRoutes(this.#members, this.names);
    if (this.#port) for (const member of joining) member.app.bind?.(member.port(this.#port));
    for (const member of retired) member.close();
    // A server that left is retired: its upstream sessions end (an HTTP server's are DELETEd), not kept as at shutdown.
    const retire = async (member: Member): Promise<void> => await (member.app.retire ?? member.app.close)?.call(member.app);
    await Promise.all([...joining.map((member) => member.check()), ...retired.map(retire)]);
    this.listsChanged(() => true);
  }

  listsChanged(which: (context: RequestContext) => boolean): void {
    const port = this.#port;
    if (!port) return;
    for (const [sessionId, { context }] of this.#listening)
      if (which(context))
        for (const method of LIST_CHANGED_NOTIFICATIONS) void port.toStream(sessionId, { jsonrpc: '2.0', method }).catch(this.#onError);
  }

  #member(server: FederatedServer, index: number): Member {
    return new Member(
      server,
      index,
      (member, message) => toClient(member.name, message),
      (member) => this.#owed.recovered(member),
    );
  }

  servers(): ServerHealth[] {
    return this.#members.map((member) => ({
      name: member.name,
      target: member.target,
      state: member.state,
      ...(member.problem ? { problem: member.problem } : {}),
      ...(member.slow ? { slow: true } : {}),
    }));
  }

  serverOf(request: Pick<JsonRpcRequest, 'method' | 'params'>): string | undefined {
    return this.#routes.serverOf(request)?.name;
  }

  guard(check: ServerCheck): void {
    this.#check = check;
  }

  async handle(request: JsonRpcRequest, context: RequestContext): Promise<Reply> {
    requireSession(context);
    this.#port ??= context.session!.port;
    if (request.method === 'initialize') return this.#initialize(request, context);
    if (request.method === 'ping') return { jsonrpc: '2.0', id: request.id, result: {} };
    if (request.method === 'logging/setLevel') return this.#setLevel(request, context);
    if (LIST_METHODS[request.method]) {
      // Every server's exchange listens on this one request's signal (two listeners each):
      // past ten servers Node would warn of a leak that is not one.
      setMaxListeners(Math.max(10, 3 * this.#members.length), context.signal);
      return mergedList(request, this.#listSources(context));
    }
    const routed = this.#routes.route(request);
    if ('error' in routed) return routed.error;
    if ('ask' in routed) return this.#askUnlisted(request, context);
    // Routed by a URI (who listed it, a template): the policy decides on the server it reaches.
    const refusal = routed.byUri ? this.#check?.(request, context, routed.member.name) : undefined;
    if (refusal) return refusal;
    return this.#forward(routed.member, routed.request, context);
  }

  cancel(request: JsonRpcRequest, context: RequestContext, reason: EarlyEnd): void {
    const member = this.#calls.get(callKey(context, request));
    if (member && context.session) member.app.cancel?.(request, member.context(context), reason);
  }

  async receive(message: JsonRpcNotification | JsonRpcResponse, context: RequestContext): Promise<void> {
    requireSession(context);
    const answer = fromClient(message);
    if (answer) {
      const member = this.#routes.member(answer.server);
      if (member) await member.app.receive(answer.message, member.context(context));
      return;
    }
    // The federation sends each server its own `initialized` when it opens it; answers and
    // progress not for a server's request of ours have nowhere to go.
    if (!('method' in message) || message.method === 'notifications/initialized' || message.method === 'notifications/progress') return;
    const requestId = message.method === 'notifications/cancelled' ? message.params?.['requestId'] : undefined;
    const target =
      typeof requestId === 'string' || typeof requestId === 'number' ? this.#calls.get(callKey(context, { id: requestId })) : undefined;
    const members = target ? [target] : this.#members;
    await Promise.all(
      members.map(async (member) => {
        const view = member.context(context);
        if (member.isOpen(view)) await member.app.receive(message, view);
      }),
    );
  }

  openStream(context: RequestContext): AsyncIterable<JsonRpcMessage> {
    const session = requireSession(context);
    const sources: AsyncIterable<JsonRpcMessage>[] = [];
    const merged = new MessageQueue<JsonRpcMessage>(() => {
      if (this.#listening.get(session.id)?.context === context) this.#listening.delete(session.id);
      for (const source of sources) void source[Symbol.asyncIterator]().return?.();
    });
    const merge = (member: Member): void => {
      const source = member.app.openStream?.(member.context(context));
      if (!source) return;
      sources.push(source);
      void (async () => {
        for await (const message of source) merged.push(toClient(member.name, message));
      })().catch(this.#onError);
    };
    for (const member of this.#members) if (member.isOpen(member.context(context))) merge(member);
    this.#listening.set(session.id, { context, merge });
    return merged;
  }

  adopt(call: OrphanedCall, context: RequestContext): AsyncIterable<JsonRpcMessage> | undefined {
    const target = serverCursor(call.cursor);
    const member = target && this.#routes.member(target.server);
    if (!target || !member?.app.adopt) return undefined;
    const rest = member.app.adopt({ requestId: call.requestId, cursor: target.cursor }, member.context(context));
    return rest && this.#mapped(member, rest, () => {});
  }

  bind(sessions: SessionPort): void {
    this.#port = sessions;
    for (const member of this.#members) member.app.bind?.(member.port(sessions));
  }

  async close(): Promise<void> {
    clearInterval(this.#idleSweep);
    for (const member of this.#members) member.close();
    await Promise.all(this.#members.map(async (member) => member.app.close?.()));
  }

  /** The downstream handshake, answered here: the servers' capabilities merged; their sessions opened on first use (or now, eagerly). */
  async #initialize(request: JsonRpcRequest, context: RequestContext): Promise<JsonRpcResponse> {
    if (this.#options.eagerUpstreams)
      await Promise.all(
        this.#members
          .filter((member) => member.admits(context))
          .map((member) => this.#open(member, member.context(context)).catch(() => member.failed())),
      );
    const instructions = mergedInstructions(this.#members);
    return {
      jsonrpc: '2.0',
      id: request.id,
      result: {
        protocolVersion: context.session!.record.protocolVersion,
        capabilities: mergedCapabilities(this.#members),
        serverInfo: { name: 'sessiongate-federation', version: '1' },
        ...(instructions ? { instructions } : {}),
      },
    };
  }

  /** The level goes to every server open now, and is kept for those opened later. */
  async #setLevel(request: JsonRpcRequest, context: RequestContext): Promise<JsonRpcResponse> {
    const session = context.session!;
    const level = request.params?.['level'];
    if (typeof level !== 'string') return errorResponse(request.id, 'SG_BAD_PARAMS', 'Invalid params: level must be a string');
    await session.port.writeState(session.id, LEVEL, level);
    await Promise.all(
      this.#members.map(async (member) => {
        const view = member.context(context);
        if (!member.offers('logging') || !member.isOpen(view)) return;
        await member.app.handle(request, view);
      }),
    );
    return { jsonrpc: '2.0', id: request.id, result: {} };
  }

  #open(member: Member, view: MemberContext): Promise<void> {
    return member.open(view, async (opened) => {
      const level = LEVEL.read(opened.session.record.state);
      if (level !== undefined && member.offers('logging'))
        await member.app.handle(
          { jsonrpc: '2.0', id: `sessiongate-level-${member.name}`, method: 'logging/setLevel', params: { level } },
          opened,
        );
      this.#listening.get(opened.session.id)?.merge(member);
    });
  }

  /** One request to one server: its session opened if need be, its answer with its messages rewritten. */
  async #forward(member: Member, request: JsonRpcRequest, context: RequestContext): Promise<Reply> {
    const view = member.context(context);
    try {
      await this.#open(member, view);
    } catch (error) {
      member.failed();
      return serverFailure(member, request.id, (error as Error).message);
    }
    const sessionId = view.session.id;
    const key = callKey(context, request);
    this.#calls.set(key, member);
    member.callStarted(sessionId);
    const done = (): void => {
      this.#calls.delete(key);
      member.callEnded(sessionId, Date.now());
    };
    let reply: Reply;
    try {
      reply = await member.app.handle(request, view);
    } catch (error) {
      done();
      throw error;
    }
    if (isStreamReply(reply)) return this.#mapped(member, reply, done);
    done();
    return this.#checked(member, reply);
  }

  async *#mapped(member: Member, stream: AsyncIterable<JsonRpcMessage>, done: () => void): AsyncIterable<JsonRpcMessage> {
    try {
      for await (const message of stream)
        yield 'method' in message
          ? toClient(member.name, message)
          : this.#checked(member, toClient(member.name, message) as JsonRpcResponse);
    } finally {
      done();
    }
  }

  /** An answer the upstream application made because the server gave none: it names the server, and the server is checked. */
  #checked(member: Member, response: JsonRpcResponse): JsonRpcResponse {
    if (!('error' in response) || !isUpstreamFailure(response.error)) return response;
    member.failed();
    return serverFailure(member, response.id, response.error.message);
  }

  /**
   * A read of a URI, or a completion of a URI template, no list has shown (the client knew it
   * another way, or lists were never asked in this process): each server offering resources
   * is asked in configuration order, and the first that has it answers (and is remembered for
   * it: a template as a template, so its URIs route there too).
   */
  async #askUnlisted(request: JsonRpcRequest, context: RequestContext): Promise<Reply> {
    const template = request.method === 'completion/complete';
    const uri = (template ? (request.params!['ref'] as JsonObject)['uri'] : request.params!['uri']) as string;
    const remember = (member: Member): void =>
      template ? this.#routes.resources.learn(member.index, [{ uriTemplate: uri }]) : this.#routes.resources.remember(uri, member.index);
    let refused: JsonRpcResponse | undefined;
    for (const member of this.#members) {
      if (!member.offers('resources') || member.state === 'down' || !member.admits(context)) continue;
      // A server the policy keeps this caller from is never asked (docs/POLICY.md, "Servers").
      const refusal = this.#check?.(request, context, member.name);
      if (refusal) {
        refused ??= refusal;
        continue;
      }
      const reply = await this.#forward(member, request, context);
      if (isStreamReply(reply) || 'result' in reply) {
        remember(member);
        return reply;
      }
    }
    return refused ?? resourceNotFound(request, uri);
  }

  #listSources(context: RequestContext): ListSources {
    return {
      members: this.#members,
      admits: (member) => member.admits(context),
      names: this.names,
      page: (member, request) => this.#page(member, request, context),
      learned: (member, method, items) => {
        if (method.startsWith('resources/')) this.#routes.resources.learn(member.index, items);
      },
      leftOut: (member, method, answered) => this.#owed.owe(member, context.session!.id, LIST_METHODS[method]!.changed, answered),
    };
  }

  /** One server's page of a list, bounded by the list timeout. */
  async #page(member: Member, request: JsonRpcRequest, context: RequestContext): Promise<Page> {
    const answered = this.#forward(member, request, context).then(async (reply) => {
      const response = await responseOf(reply).catch(() => undefined);
      return response && pageOf(request.method, response);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.#options.listTimeoutMs ?? 10_000)));
    try {
      const page = await Promise.race([answered.catch(() => undefined), late]);
      if (page === 'late') return { left: 'late', answered: answered.catch(() => undefined) };
      return page ?? { left: 'failed' };
    } finally {
      clearTimeout(timer);
    }
  }

  #closeIdle(idleMs: number): void {
    const before = Date.now() - idleMs;
    for (const member of this.#members) void member.closeIdle(before).catch(this.#onError);
  }
}

function serverFailure(member: Member, id: JsonRpcResponse['id'], detail: string): JsonRpcResponse {
  const what = detail.replace(/^Upstream error: /, '');
  return upstreamFailure(id, `server "${member.name}" is unavailable: ${what}`, { server: member.name });
}

function callKey(context: RequestContext, request: Pick<JsonRpcRequest, 'id'>): string {
  return `${context.session?.id ?? ''} ${String(requestKey(request.id))}`;
}
