/** @module sessiongate/store/sqlite — the embedded durable store (Node only). */
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
