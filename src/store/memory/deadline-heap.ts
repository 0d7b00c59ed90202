/**
 * @module store/memory/deadline-heap
 * A binary min-heap of (deadline, id) pairs. Entries are never updated in place: a newer
 * deadline is pushed and the older entry is recognised as stale by the caller when popped.
 *
 * Kept as two parallel arrays rather than one object per entry: the deadlines array holds raw
 * doubles (no boxed number, no entry object), which is most of what an entry cost per idle
 * session (bench/RESULTS.md, memory per idle session).
 */
export interface Deadline {
  readonly at: number;
  readonly id: string;
}

export class DeadlineHeap {
  readonly #ats: number[] = [];
  readonly #ids: string[] = [];

  get size(): number {
    return this.#ats.length;
  }

  /** Replaces every entry (amortised O(n) compaction). */
  rebuild(entries: Deadline[]): void {
    this.#ats.length = 0;
    this.#ids.length = 0;
    for (const entry of entries) this.push(entry.at, entry.id);
  }

  push(at: number, id: string): void {
    const ats = this.#ats;
    const ids = this.#ids;
    let i = ats.length;
    ats.push(at);
    ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (ats[parent]! <= at) break;
      ats[i] = ats[parent]!;
      ids[i] = ids[parent]!;
      i = parent;
    }
    ats[i] = at;
    ids[i] = id;
  }

  /** The earliest entry, left in place. */
  peek(): Deadline | undefined {
    return this.#ats.length === 0 ? undefined : { at: this.#ats[0]!, id: this.#ids[0]! };
  }

  /** Removes and returns the earliest entry if it is due at `now` (any entry for Infinity). */
  popDue(now: number): Deadline | undefined {
    const ats = this.#ats;
    const ids = this.#ids;
    if (ats.length === 0 || ats[0]! > now) return undefined;
    const top = { at: ats[0]!, id: ids[0]! };
    const lastAt = ats.pop()!;
    const lastId = ids.pop()!;
    const size = ats.length;
    if (size === 0) return top;
    // Sift the last entry down from the root.
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && ats[right]! < ats[left]! ? right : left;
      if (ats[child]! >= lastAt) break;
      ats[i] = ats[child]!;
      ids[i] = ids[child]!;
      i = child;
    }
    ats[i] = lastAt;
    ids[i] = lastId;
    return top;
  }
}
