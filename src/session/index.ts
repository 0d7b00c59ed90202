/** @module session — records, ids, identity binding, expiry, caps and the live registry. */
export { SessionManager, type NewSession, type SessionEndListener } from './session-manager.js';
export type { SessionOptions, ResolvedSessionOptions } from './options.js';
export { LiveRegistry, type Disposer } from './live-registry.js';
export { mintSessionId, isWellFormedSessionId, sessionTag } from './id.js';
export { type Clock, systemClock } from './clock.js';
export { PrincipalHasher } from './principal.js';
