/**
 * @module store/memory/deadline-heap
 * A binary min-heap of (deadline, id) pairs. Entries are never updated in place: a newer
 * deadline is pushed and the older entry is recognised as stale by the caller when popped.
 */
export interface Deadline {
  readonly at: number;
  readonly id: string;
}

export class DeadlineHeap {
  readonly #items: Deadline[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** Replaces every entry (amortised O(n) compaction). */
  rebuild(entries: Deadline[]): void {
    this.#items.length = 0;
    for (const entry of entries) this.push(entry.at, entry.id);
  }

  push(at: number, id: string): void {
    const items = this.#items;
    items.push({ at, id });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.at <= items[i]!.at) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  /** The earliest entry, left in place. */
  peek(): Deadline | undefined {
    return this.#items[0];
  }

  /** Removes and returns the earliest entry if it is due at `now` (any entry for Infinity). */
  popDue(now: number): Deadline | undefined {
    const items = this.#items;
    const top = items[0];
    if (top === undefined || top.at > now) return undefined;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && items[left]!.at < items[smallest]!.at) smallest = left;
        if (right < items.length && items[right]!.at < items[smallest]!.at) smallest = right;
        if (smallest === i) break;
        [items[smallest], items[i]] = [items[i]!, items[smallest]!];
        i = smallest;
      }
    }
    return top;
  }
}
