/**
 * @module gateway/federation/names
 * How federated servers' tools and prompts are named downstream: `NAME` + separator + the
 * server's own name (`github__create_issue`; docs/FEDERATION.md, "Names"). Server names are
 * `[a-z0-9-]+` and the separator holds a character they cannot, so the first separator in a
 * name always ends the server's part, whatever the tool is called.
 */
import { OptionError } from '../../protocol/options.js';

/** What a federated server may be called. */
export const SERVER_NAME = /^[a-z0-9-]{1,64}$/;

export const DEFAULT_SEPARATOR = '__';

/** Why a separator cannot be used, or undefined when it can. */
export function separatorProblem(separator: string): string | undefined {
  if (separator.length === 0 || separator.length > 8) return 'must be 1 to 8 characters';
  if (/^[a-z0-9-]+$/.test(separator)) return 'must hold a character server names cannot ([a-z0-9-] only would be ambiguous)';
  if (/[\s/]/.test(separator)) return 'must not hold spaces or "/"';
  return undefined;
}

export class ServerNames {
  readonly separator: string;

  constructor(separator = DEFAULT_SEPARATOR) {
    const problem = separatorProblem(separator);
    if (problem) throw new OptionError('namespaceSeparator', `sessiongate: the namespace separator "${separator}" ${problem}`);
    this.separator = separator;
  }

  /** The downstream name of a server's tool or prompt. */
  join(server: string, name: string): string {
    return `${server}${this.separator}${name}`;
  }

  /** The server and its own name in a downstream name; undefined when it names none. */
  split(downstream: string): { server: string; name: string } | undefined {
    const at = downstream.indexOf(this.separator);
    if (at <= 0) return undefined;
    const server = downstream.slice(0, at);
    if (!SERVER_NAME.test(server)) return undefined;
    return { server, name: downstream.slice(at + this.separator.length) };
  }
}
