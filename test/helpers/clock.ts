import type { Clock } from '../../src/session/clock.js';

/** A clock the test moves by hand: expiry without sleeping. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start = Date.now()) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}
