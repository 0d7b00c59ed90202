/**
 * @module policy/globs
 * A rule's names: exact, or globs where `*` stands for any run of characters (so `*` is
 * everything, `db_*` a prefix, `file:///srv/*` a URI subtree). Exact names are kept in a set so
 * a look-up does not depend on how many there are.
 */

export class NameSet {
  readonly #exact = new Set<string>();
  readonly #patterns: RegExp[] = [];
  readonly #all: boolean;

  constructor(names: readonly string[]) {
    for (const name of names) {
      if (!name.includes('*')) this.#exact.add(name);
      else this.#patterns.push(new RegExp(`^${name.split('*').map(escape).join('.*')}$`, 's'));
    }
    this.#all = names.includes('*');
  }

  has(name: string): boolean {
    return this.#all || this.#exact.has(name) || this.#patterns.some((pattern) => pattern.test(name));
  }

  /** Names matched exactly (for indexing), and whether any glob is present. */
  get exact(): ReadonlySet<string> {
    return this.#exact;
  }

  get hasGlobs(): boolean {
    return this.#patterns.length > 0;
  }
}

function escape(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
