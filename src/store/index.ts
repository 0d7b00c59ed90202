/** @module store — the SessionStore contract and the runtime-neutral memory store. */
export type { SessionStore, CreateLimits, CreateOutcome, VictimScope } from './store.js';
export { principalLimit } from './store.js';
export * from './record.js';
export { MemoryStore } from './memory/index.js';
