/**
 * @module gateway/federation/owed-notices
 * The `list_changed` a session is owed when a list left a server out (docs/FEDERATION.md,
 * "Lists"): sent when the late answer arrives, or when the server is found up again. Forgotten
 * when the session ends, so a server down for days does not collect them.
 */
import type { SessionPort } from '../../server/application.js';
import type { Member } from './member.js';

export class OwedNotices {
  /** Server -> session -> the list_changed methods owed. */
  readonly #owed = new Map<Member, Map<string, Set<string>>>();
  readonly #port: () => SessionPort | undefined;
  readonly #onError: (error: unknown) => void;

  constructor(port: () => SessionPort | undefined, onError: (error: unknown) => void) {
    this.#port = port;
    this.#onError = onError;
  }

  /** The session's list lacks `member` (`changed`: its list_changed method); `answered`: a late answer still coming. */
  owe(member: Member, sessionId: string, changed: string, answered: Promise<unknown> | undefined): void {
    if (answered) {
      void answered.then(() => this.#tell(sessionId, changed));
      return;
    }
    let sessions = this.#owed.get(member);
    if (!sessions) this.#owed.set(member, (sessions = new Map<string, Set<string>>()));
    let methods = sessions.get(sessionId);
    if (!methods) {
      sessions.set(sessionId, (methods = new Set<string>()));
      const owed = sessions;
      this.#port()?.attach(sessionId, () => void owed.delete(sessionId));
    }
    methods.add(changed);
  }

  /** `member` answers again: every session it was missing from is told. */
  recovered(member: Member): void {
    const sessions = this.#owed.get(member);
    this.#owed.delete(member);
    for (const [sessionId, methods] of sessions ?? []) for (const method of methods) this.#tell(sessionId, method);
  }

  #tell(sessionId: string, method: string): void {
    void this.#port()?.toStream(sessionId, { jsonrpc: '2.0', method }).catch(this.#onError);
  }
}
