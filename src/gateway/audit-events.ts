/**
 * @module gateway/audit-events
 * What the gateway reports happened (docs/AUDIT.md): a request answered, a call picked up
 * after a crash, a session created or ended, a console action, an answer to an approval
 * question nobody asked; and where such events go (`EventSink`: the audit log, the metrics,
 * the console, several at once with `fanout`). Shared by ops/ (which writes them), audit-log/
 * and console/ (which read them).
 */
import type { Verdict } from '../policy/policy-gate.js';
import { sessionTag } from '../session/id.js';
import type { EndReason, SessionRecord } from '../store/record.js';
import type { AuditIdentity } from './identity-view.js';

export type AuditEvent =
  | {
      event: 'session.created';
      session: string;
      principal: string | null;
      /** With a verified identity; null without. */
      identity: AuditIdentity | null;
      clientSessionId: string | null;
      protocolVersion: string;
    }
  | { event: 'session.ended'; session: string; principal: string | null; clientSessionId: string | null; reason: EndReason }
  | {
      /** What an operator did in the console (docs/CONSOLE.md): signing in (or being refused), out, ending a session, deciding an approval. */
      event: 'console';
      action: 'sign-in' | 'sign-in-refused' | 'sign-out' | 'terminate' | 'approve' | 'deny' | 'withdraw' | 'disconnect';
      /** The console session's tag (never its cookie); null for a refused sign-in. */
      console: string | null;
      /** The session acted on (its tag), if any. */
      session: string | null;
      /** The approval decided, if any. */
      approval?: string;
      /** The client whose access was withdrawn (`withdraw`). */
      client?: string;
      /** The server a person's connection to was removed (`disconnect`). */
      server?: string;
      /** The client's address, for sign-ins. */
      address?: string;
    }
  | {
      /**
       * What the gateway's authorization server did: a client registered, a person signed in,
       * consented, refused or withdrew, tokens issued, refreshed or revoked, a code or refresh
       * token presented a second time (its grant then revoked). Names the client and the person,
       * never a token. See docs/AUTH.md, "Tokens the gateway issues".
       */
      event: 'oauth';
      action:
        | 'client.registered'
        | 'sign-in'
        | 'consent.granted'
        | 'consent.refused'
        | 'consent.withdrawn'
        | 'token.issued'
        | 'token.refreshed'
        | 'token.revoked'
        | 'code.reused'
        | 'refresh.reused'
        | 'provider.signed-out';
      client: string;
      /** The person (email and subject as the identity provider gave them); null for a registration. */
      person: string | null;
      /** For a withdrawal: by the person on their page, or by an operator (the admin API). */
      by?: 'person' | 'operator';
    }
  | {
      /**
       * A person's own credentials for an upstream server (docs/CREDENTIALS.md): connected
       * (they authorized it), refreshed, a refresh refused (they are asked to connect again),
       * or disconnected by them or an operator. Names the server and the person, never a token.
       */
      event: 'credentials';
      action: 'connected' | 'refreshed' | 'refresh.failed' | 'disconnected';
      server: string;
      person: string;
      /** For a disconnection: by the person on their page, or by an operator (the admin API). */
      by?: 'person' | 'operator';
      /** For a failed refresh: what the server's authorization server said. */
      reason?: string;
    }
  | {
      /**
       * A pinned tool's definition changed, or a tool appeared after the server's tools were
       * pinned (docs/CURATION.md, "Pinning"): recorded once per definition, on any replica.
       * `strict`: withheld until accepted; `warn`: still shown.
       */
      event: 'tool.changed';
      server: string;
      tool: string;
      change: 'changed' | 'added';
      /** The pinned parts that differ (`description`, `inputSchema`...). */
      fields: string[];
      /** The new definition's hash (docs/CURATION.md, "Pinning"; `hash` is the audit chain's own field). */
      definitionHash: string;
      previousDefinitionHash: string | null;
      mode: 'strict' | 'warn';
    }
  | {
      /** A tool's new definition accepted: by an operator in the console or the admin API, or by a lock file imported. */
      event: 'tool.accepted';
      server: string;
      tool: string;
      definitionHash: string;
      by: 'console' | 'admin' | 'import';
      /** The console session's tag, for `console`. */
      console?: string;
    }
  | {
      /**
       * An answer to a user-approval question from a session or person who was not asked (or
       * to no question): ignored (docs/POLICY.md, "Approval"). Names who sent it.
       */
      event: 'approval.stray-answer';
      session: string | null;
      principal: string | null;
    }
  | {
      /**
       * A call another process began and died before answering, picked up here (`adopt`,
       * docs/RESUMPTION.md): every call that reaches an upstream leaves a line, whichever path
       * got it there. Its method is in the dead process's lines, if it wrote any.
       */
      event: 'request.adopted';
      session: string | null;
      principal: string | null;
      identity: AuditIdentity | null;
      clientSessionId: string | null;
      requestId: string | number;
      outcome: 'result' | 'error' | 'tool-error';
      code: number | null;
      durationMs: number;
      /** With tracing: the adopted call's `resume` span's trace. */
      traceId?: string;
    }
  | {
      event: 'request';
      session: string | null;
      principal: string | null;
      /** With a verified identity (`--auth jwt`); null without. */
      identity: AuditIdentity | null;
      clientSessionId: string | null;
      method: string;
      name: string | null;
      /** Curated (docs/CURATION.md): the name the client called, when the curation changed it (`name` is the one the policy and the upstream saw). */
      calledAs?: string;
      /** In front of a federation: the server the request went to (docs/FEDERATION.md). */
      server?: string;
      /** `tool-error`: a tools/call answered with a result whose `isError` is true. */
      outcome: 'result' | 'error' | 'tool-error';
      code: number | null;
      durationMs: number;
      /** With --policy: what it decided, and by which rule (null: the default). */
      decision?: Verdict['decision'];
      rule?: string | null;
      approver?: string;
      /** How long the call waited for a person to approve it (included in durationMs). */
      approvalWaitMs?: number;
      /** With tracing: the call's trace (docs/OBSERVABILITY.md, "How they join"). */
      traceId?: string;
    };

/** Every field any event has. */
type EventField = AuditEvent extends infer Event ? (Event extends unknown ? keyof Event : never) : never;
/**
 * The fields the audit log writes on every line itself (audit-log.ts: `time`, `replica`;
 * audit-chain.ts: `seq`, `prev`, `hash`). An event with one of them would lose it, or overwrite
 * the log's (the first pin events named a definition's `hash`): this does not compile then.
 */
const NO_EVENT_FIELD_IS_THE_LOGS: [Extract<EventField, 'time' | 'replica' | 'seq' | 'prev' | 'hash'>] extends [never] ? true : never = true;
void NO_EVENT_FIELD_IS_THE_LOGS;

/** Where events go: the audit log, metrics, or several at once (`fanout`). */
export interface EventSink {
  write(event: AuditEvent): void;
}

export function fanout(...sinks: (EventSink | undefined)[]): EventSink {
  const present = sinks.filter((sink): sink is EventSink => sink !== undefined);
  return { write: (event) => present.forEach((sink) => sink.write(event)) };
}

/** The event for a session the gateway made itself (a sessionless client's conversation). */
export function sessionCreated(record: SessionRecord, identity: AuditIdentity | null = null): AuditEvent {
  return {
    event: 'session.created',
    session: sessionTag(record.id),
    principal: record.principal,
    identity,
    clientSessionId: record.clientSessionId,
    protocolVersion: record.protocolVersion,
  };
}

/** The event for a session that ended (from `SessionManager.onEnd`). */
export function sessionEnded(record: SessionRecord, reason: EndReason): AuditEvent {
  return {
    event: 'session.ended',
    session: sessionTag(record.id),
    principal: record.principal,
    clientSessionId: record.clientSessionId,
    reason,
  };
}
