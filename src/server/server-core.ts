/**
 * @module server/server-core
 * What every method handler (handle-post, handle-get, handle-delete, session-gate) works with:
 * one per server, built by session-server.ts. Its own file, so the handlers do not import the
 * module that imports them.
 */
import type { SessionManager } from '../session/session-manager.js';
import type { McpApplication } from './application.js';
import type { InFlight } from './in-flight.js';
import type { StreamRecorder } from './resume/stream-recorder.js';
import type { SessionServerOptions } from './options.js';

/** Everything a method handler needs; one per server. */
export interface ServerCore {
  readonly sessions: SessionManager;
  readonly application: McpApplication;
  readonly maxBodyBytes: number;
  readonly authenticate: NonNullable<SessionServerOptions['authenticate']> | undefined;
  /** Sessions with an open GET stream in this process (a second one gets 409). */
  readonly openStreams: Set<string>;
  /** Requests the application is answering: deadlines, caps, early ends. */
  readonly inFlight: InFlight;
  /** Writes SSE streams to the store's event log; undefined when resumption is off. */
  readonly recorder: StreamRecorder | undefined;
  /** Keep each request's timings (options.ts, `recordTimings`). */
  readonly recordTimings: boolean;
}
