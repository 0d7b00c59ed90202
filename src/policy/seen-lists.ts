/**
 * @module policy/seen-lists
 * What each live session was shown of the upstream's lists, so that a reloaded policy can tell
 * the sessions whose view it changed (docs/POLICY.md, "Reloading"): the upstream's full names
 * per list, and the caller they were filtered for. Forgotten when the session ends.
 */
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { LIST_METHODS } from '../protocol/lists.js';
import type { SessionHandle } from '../server/application.js';
import { type Caller, listedCall, type ServerOf } from './call.js';
import type { PolicyEvaluator } from './evaluator.js';

interface Seen {
  session: SessionHandle;
  caller: Caller;
  /** List method -> the names the upstream listed (before filtering). */
  names: Map<string, Set<string>>;
}

export class SeenLists {
  readonly #sessions = new Map<string, Seen>();
  readonly #serverOf: ServerOf | undefined;

  constructor(serverOf?: ServerOf) {
    this.#serverOf = serverOf;
  }

  /** `session` was shown `names` of `method`'s list (filtered for `caller`). */
  record(session: SessionHandle, caller: Caller, method: string, names: readonly string[]): void {
    let seen = this.#sessions.get(session.id);
    if (!seen) {
      seen = { session, caller, names: new Map() };
      this.#sessions.set(session.id, seen);
      const id = session.id;
      session.port.attach(id, () => void this.#sessions.delete(id));
    }
    seen.caller = caller;
    const known = seen.names.get(method) ?? new Set<string>();
    for (const name of names) known.add(name);
    seen.names.set(method, known);
  }

  /** Tells every session whose view differs between the two policies; resolves with how many notifications were sent. */
  async notifyChanges(previous: PolicyEvaluator, current: PolicyEvaluator): Promise<number> {
    let sent = 0;
    for (const { session, caller, names } of this.#sessions.values()) {
      const notified = new Set<string>();
      for (const [method, listed] of names) {
        const list = LIST_METHODS[method]!;
        if (notified.has(list.changed)) continue;
        const view = (policy: PolicyEvaluator, name: string): boolean => policy.usable(caller, listedCall(list.call, name, this.#serverOf));
        if (![...listed].some((name) => view(previous, name) !== view(current, name))) continue;
        notified.add(list.changed);
        const notification: JsonRpcMessage = { jsonrpc: '2.0', method: list.changed };
        if (await session.port.toStream(session.id, notification)) sent++;
      }
    }
    return sent;
  }
}
