/**
 * @module server/client-questions
 * Questions an application asks the client in a call's own stream (a server-to-client request:
 * `elicitation/create`), and their answers. Each question has an id of `prefix` and 128 random
 * bits, so none can be guessed; its answer counts only from the session and person asked (an
 * answer from anyone else is a stray, told to `stray`); an answer posted to another replica is
 * relayed to this one through the session's holders. Waiting for a person is not a stuck
 * request: the wait tells the server the request is alive, and ends at its timeout, when the
 * request ends, or when the answer comes.
 */
import { randomBytes } from 'node:crypto';
import { isResponse, type JsonRpcMessage, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import type { RequestContext } from './application.js';

/** How often a wait tells the server the request is alive (well inside any request timeout of a second or more). */
const KEEP_ALIVE_MS = 500;

interface Question {
  sessionId: string;
  principal: string | null;
  answer: (response: JsonRpcResponse | undefined) => void;
}

/** An answer that was not the asked person's: ignored, and told to whoever audits (the question's id and the answering session). */
export type StrayAnswer = (stray: { question: string; context: RequestContext }) => void;

export class ClientQuestions {
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #waiting = new Map<string, Question>();

  constructor(prefix: string, timeoutMs: number) {
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
  }

  /** The id of a new question. */
  newId(): string {
    return this.#prefix + randomBytes(16).toString('base64url');
  }

  /** Whether the client declared `elicitation` (with `mode`: that mode too) on a handshake-era session. */
  static canElicit(context: RequestContext, mode?: 'form' | 'url'): boolean {
    const capabilities = context.session?.record.initialize['capabilities'];
    const elicitation =
      typeof capabilities === 'object' && capabilities !== null ? (capabilities as Record<string, unknown>)['elicitation'] : undefined;
    if (typeof elicitation !== 'object' || elicitation === null) return false;
    return mode === undefined || mode === 'form' || typeof (elicitation as Record<string, unknown>)[mode] === 'object';
  }

  /** Whether `message` is an answer to one of these questions (asked anywhere): what `take` takes. */
  ours(message: JsonRpcMessage): message is JsonRpcResponse {
    return isResponse(message) && typeof message.id === 'string' && message.id.startsWith(this.#prefix);
  }

  /**
   * A client's answer to one of these questions is taken here (resolves true); anything else is
   * not ours. It counts only from the session and person asked; a question asked on another
   * replica gets the answer there (the session's holders), where the same check is made.
   */
  async take(message: JsonRpcMessage, context: RequestContext, stray: StrayAnswer | undefined): Promise<boolean> {
    if (!this.ours(message)) return false;
    const question = this.#waiting.get(String(message.id));
    if (question && question.sessionId === context.session?.id && question.principal === context.principal) {
      question.answer(message);
      return true;
    }
    // Not asked here: the replicas holding this session's questions judge it, or nobody asked it in this session.
    const session = context.session;
    if (question || !session || !(await session.port.toHolders(session.id, message))) stray?.({ question: String(message.id), context });
    return true; // a late answer to a question already given up on is dropped too
  }

  /** The answer to question `id`, asked in `context`'s session (handshake era); undefined when none came in time. */
  wait(id: string, context: RequestContext): Promise<JsonRpcResponse | undefined> {
    const signal = context.signal;
    const session = context.session!;
    return new Promise((resolve) => {
      const alive = setInterval(() => context.keepAlive?.(), KEEP_ALIVE_MS);
      // The answer may be posted to another replica: it relays it to the session's holders, this one.
      const release = session.port.hold(session.id, (message) => {
        if (isResponse(message) && message.id === id) done(message);
      });
      const done = (response: JsonRpcResponse | undefined): void => {
        clearInterval(alive);
        clearTimeout(timer);
        signal.removeEventListener('abort', gone);
        release();
        this.#waiting.delete(id);
        resolve(response);
      };
      const gone = (): void => done(undefined);
      const timer = setTimeout(gone, this.#timeoutMs);
      signal.addEventListener('abort', gone, { once: true });
      this.#waiting.set(id, { sessionId: session.id, principal: context.principal, answer: done });
    });
  }
}
