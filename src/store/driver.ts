/**
 * @module store/driver
 * The store drivers (`better-sqlite3`, `ioredis`) are optional dependencies: a deployment that
 * uses only the memory store, or only one of the two, need not install (or build) the other.
 * They load the first time a store of theirs is made, and a missing one is a one-line error
 * naming the package to install, not a module-resolution trace.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The versions this release is built and tested with (package.json, optionalDependencies). */
const TESTED = { 'better-sqlite3': '12', ioredis: '6' } as const;

export type DriverName = keyof typeof TESTED;

export class MissingDriverError extends Error {
  override readonly name = 'MissingDriverError';
  readonly code = 'SG_DRIVER_MISSING';
  constructor(
    readonly driver: DriverName,
    store: string,
  ) {
    // No cause: the resolver's stack of paths says nothing the message does not.
    super(`${store} needs the package "${driver}" (${TESTED[driver]}), which is not installed: npm install ${driver}`);
  }
}

/** Loads a driver package, or throws `MissingDriverError` when it is not installed. */
export function loadDriver<T>(driver: DriverName, store: string): T {
  try {
    return require(driver) as T;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes(`'${driver}'`)) {
      throw new MissingDriverError(driver, store);
    }
    throw error;
  }
}
