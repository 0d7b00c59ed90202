/**
 * @module gateway/curation/curated-names
 * One kind of named item (tools, or prompts) as curated (docs/CURATION.md, "Names"): each
 * curated item by the name the upstream side publishes (`inner`: the server's own, or
 * `NAME__tool` behind a federation) and by the name clients see (`outer`). A client reaches an
 * item only by its outer name: a renamed item's inner name and a hidden item are names that do
 * not exist, and an item nobody curated whose name a curated item took is not shown.
 */
import type { DescriptionChange } from './curation-document.js';

/** One item's curation, compiled. */
export interface CuratedItem {
  /** As the upstream side publishes it. */
  readonly inner: string;
  /** As clients see and call it. */
  readonly outer: string;
  readonly hidden: boolean;
  readonly title: string | undefined;
  readonly description: DescriptionChange | undefined;
  /** Arguments the gateway sets whatever the caller gives (gone from what clients see). */
  readonly fixed: Readonly<Record<string, unknown>>;
  /** Arguments the gateway sets when the caller gives none. */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Whether `fixed` or `defaults` names any argument. */
  readonly setsArguments: boolean;
  readonly annotations: Readonly<Record<string, unknown>> | undefined;
}

export class CuratedNames {
  readonly #byInner = new Map<string, CuratedItem>();
  readonly #byOuter = new Map<string, CuratedItem>();

  get size(): number {
    return this.#byInner.size;
  }

  /** Adds an item; the reason it cannot be added (its outer name taken) or undefined. */
  add(item: CuratedItem): string | undefined {
    if (this.#byInner.has(item.inner)) return `"${item.inner}" is curated twice`;
    const taken = item.hidden ? undefined : this.#byOuter.get(item.outer);
    if (taken) return `"${item.inner}" and "${taken.inner}" would both be called "${item.outer}"`;
    this.#byInner.set(item.inner, item);
    if (!item.hidden) this.#byOuter.set(item.outer, item);
    return undefined;
  }

  /** How an entry the upstream side listed is shown: curated, as it is (undefined), or not at all. */
  listed(inner: string): CuratedItem | undefined | 'unlisted' {
    const item = this.#byInner.get(inner);
    if (item) return item.hidden ? 'unlisted' : item;
    // A name a curated item took is that item's now.
    return this.#byOuter.has(inner) ? 'unlisted' : undefined;
  }

  /** What a call by a client's name reaches: a curated item, the name as it is (undefined), or nothing. */
  called(outer: string): CuratedItem | undefined | 'unknown' {
    const item = this.#byOuter.get(outer);
    if (item) return item;
    // Curated, yet not under this name: hidden, or renamed to another.
    return this.#byInner.has(outer) ? 'unknown' : undefined;
  }

  /** The outer name of an inner one (for what the gateway reports about an item). */
  outerOf(inner: string): string {
    return this.#byInner.get(inner)?.outer ?? inner;
  }
}

/** A description as curated: replaced, or added to. */
export function describe(original: unknown, change: DescriptionChange | undefined): unknown {
  if (change === undefined) return original;
  if (typeof change === 'string') return change;
  const base = typeof original === 'string' ? original : '';
  return `${change.prepend ?? ''}${base}${change.append ?? ''}`;
}
