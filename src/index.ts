/**
 * @module sessiongate
 * Runtime-neutral root: protocol facts, the session layer and the memory store. Durable stores
 * live behind `sessiongate/store/sqlite` and `sessiongate/store/redis`; the server behind
 * `sessiongate/server`.
 */
export * from './protocol/index.js';
export * from './session/index.js';
export * from './store/index.js';
