/**
 * @module gateway/credentials/connections
 * The servers people connect with their own credentials (docs/CREDENTIALS.md): one broker per
 * server (the single upstream's, or several of a federation's), looked up by the server's name
 * (the name on the pages, in the audit, in a policy rule's `requires`, and a federation's
 * routing name). What the gateway asks of them as a whole is here: attaching them to the
 * store, the start-up line, the key check, and what a person has connected or not.
 */
import type { EventSink } from '../audit-events.js';
import { OptionError } from '../../protocol/options.js';
import type { SessionStore } from '../../store/store.js';
import { type ConnectionPolicy, ConnectionRequired, type CredentialBroker } from './credential-broker.js';
import type { ConnectionSummary } from './vault.js';

export class Connections {
  readonly #brokers: ReadonlyMap<string, CredentialBroker>;
  readonly #connected = new Set<(principal: string, server: string) => void>();

  constructor(brokers: CredentialBroker | readonly CredentialBroker[]) {
    const list: readonly CredentialBroker[] = Array.isArray(brokers) ? brokers : [brokers as CredentialBroker];
    if (list.length === 0) throw new OptionError('credentials', 'sessiongate: option "credentials" names no server');
    this.#brokers = new Map(list.map((broker) => [broker.server, broker]));
    if (this.#brokers.size !== list.length)
      throw new OptionError('credentials', 'sessiongate: option "credentials" names a server twice (each broker its own `server`)');
    for (const broker of list) broker.onConnected((principal) => this.#told(principal, broker.server));
  }

  get brokers(): readonly CredentialBroker[] {
    return [...this.#brokers.values()];
  }

  /** The names of the servers, in the order given. */
  get servers(): readonly string[] {
    return [...this.#brokers.keys()];
  }

  /** The broker of `server`, when people connect it with their own credentials. */
  broker(server: string | undefined): CredentialBroker | undefined {
    return server === undefined ? undefined : this.#brokers.get(server);
  }

  attach(store: SessionStore, events: EventSink): void {
    for (const broker of this.#brokers.values()) broker.attach(store, events);
  }

  listening(origin: string): string[] {
    return this.brokers.flatMap((broker) => broker.listening(origin));
  }

  /** Fails with one line when the vault was sealed under keys the operator did not give. */
  async checkKey(): Promise<void> {
    // One vault for all: one check says it.
    await this.brokers[0]!.checkKey();
  }

  /** Told the policy once the gateway is assembled (without one, everyone may connect every server). */
  governedBy(policy: ConnectionPolicy): void {
    for (const broker of this.#brokers.values()) broker.governedBy(policy);
  }

  /** Calls `listener` when a person connected a server (on this replica). */
  onConnected(listener: (principal: string, server: string) => void): void {
    this.#connected.add(listener);
  }

  /**
   * Those of `servers` `principal` has not connected, each with its connect page: a policy rule
   * that `requires` them (docs/POLICY.md). A server nobody connects here is never connected.
   */
  async missing(principal: string | undefined, servers: readonly string[]): Promise<{ server: string; url: string | undefined }[]> {
    const missing: { server: string; url: string | undefined }[] = [];
    for (const server of servers) {
      const broker = this.#brokers.get(server);
      if (!broker || principal === undefined) {
        missing.push({ server, url: undefined });
        continue;
      }
      // Expired and not renewable just now still counts as connected: the call says so itself.
      const loaded = await (broker.ready(principal) ?? Promise.resolve()).then(
        () => true,
        (error: unknown) => !(error instanceof ConnectionRequired),
      );
      if (!loaded) missing.push({ server, url: broker.connectUrl });
    }
    return missing;
  }

  /** What `principal` connected, every server's, tokens left sealed. */
  async list(principal: string): Promise<ConnectionSummary[]> {
    return (await Promise.all(this.brokers.map((broker) => broker.list(principal)))).flat();
  }

  /**
   * Loads `principal`'s token of every server (those they connected; the others stay
   * unconnected): undefined at once when every one is held, else a promise that never rejects.
   */
  warm(principal: string): Promise<void> | undefined {
    const loading = this.brokers.flatMap((broker) => {
      const ready = broker.ready(principal);
      return ready ? [ready.catch(() => {})] : [];
    });
    return loading.length === 0 ? undefined : Promise.all(loading).then(() => {});
  }

  #told(principal: string, server: string): void {
    for (const listener of this.#connected) listener(principal, server);
  }
}
