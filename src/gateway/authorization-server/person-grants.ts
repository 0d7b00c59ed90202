/**
 * @module gateway/authorization-server/person-grants
 * What each person has allowed (docs/AUTH.md, "Withdrawing access"): per person, the clients
 * they consented to and the grants (refresh families) each holds, kept in one record under the
 * person so they can be listed without a scan of the store. Withdrawing a client forgets the
 * consent and ends every grant it holds, so its tokens stop at the next request. Changes are
 * compare-and-set with a retry: two replicas recording at once both land.
 */
import type { ClientGrant, ClientRecord, GrantRecords, Person, PersonRecord, RecordKind } from './grant-records.js';
import { sha256 } from './grant-records.js';
import { OAuthError } from './oauth-error.js';
import { consentKey } from './server-context.js';

export type { ClientGrant };

/** Tries of a compare-and-set before giving up (another replica changed the record each time). */
const TRIES = 8;

export class PersonGrants {
  readonly #people: RecordKind<PersonRecord>;
  readonly #records: GrantRecords;
  readonly #keepMs: number;
  readonly #now: () => number;

  constructor(records: GrantRecords, keepMs: number, now: () => number) {
    this.#records = records;
    this.#people = records.people;
    this.#keepMs = keepMs;
    this.#now = now;
  }

  /** The person's clients, each with the grants still alive. */
  async list(person: Pick<Person, 'issuer' | 'subject'>): Promise<ClientGrant[]> {
    const record = await this.#people.get(personKey(person));
    const grants = Object.values(record?.grants ?? {});
    return Promise.all(
      grants.map(async (grant) => ({
        ...grant,
        families: (await Promise.all(grant.families.map(async (id) => ((await this.#records.families.has(id)) ? id : undefined)))).filter(
          (id): id is string => id !== undefined,
        ),
      })),
    );
  }

  consented(person: Person, client: ClientRecord, scope: readonly string[]): Promise<void> {
    return this.#update(person, (grants) => {
      const known = grants[client.client_id];
      return {
        ...grants,
        [client.client_id]: {
          clientId: client.client_id,
          clientName: client.client_name,
          scope,
          consentedAt: this.#now(),
          families: known?.families ?? [],
        },
      };
    });
  }

  granted(person: Person, clientId: string, family: string): Promise<void> {
    return this.#update(person, (grants) => {
      const known = grants[clientId] ?? { clientId, clientName: undefined, scope: [], consentedAt: undefined, families: [] };
      // Bounded: the oldest grants' ids go first (they are the first to have ended).
      return { ...grants, [clientId]: { ...known, families: [...known.families, family].slice(-50) } };
    });
  }

  /** Forgets the consent to `clientId` and ends every grant it holds: true when there was something to withdraw. */
  async withdraw(person: Pick<Person, 'issuer' | 'subject'>, clientId: string): Promise<boolean> {
    let withdrawn: ClientGrant | undefined;
    const known = await this.#people.get(personKey(person));
    // Nothing recorded for that client: nothing is written (an operator's guess creates no record).
    if (known?.grants[clientId] === undefined) {
      await this.#records.consents.remove(consentKey(person, clientId));
      return false;
    }
    await this.#update(person, (grants) => {
      withdrawn = grants[clientId];
      const { [clientId]: _gone, ...rest } = grants;
      return rest;
    });
    await this.#records.consents.remove(consentKey(person, clientId));
    for (const family of withdrawn?.families ?? []) await this.#records.families.remove(family);
    return withdrawn !== undefined;
  }

  async #update(
    person: Pick<Person, 'issuer' | 'subject'>,
    change: (grants: Record<string, ClientGrant>) => Record<string, ClientGrant>,
  ): Promise<void> {
    const key = personKey(person);
    for (let attempt = 0; attempt < TRIES; attempt++) {
      const read = await this.#people.read(key);
      const next: PersonRecord = { grants: change({ ...read?.value.grants }) };
      const expiresAt = this.#now() + this.#keepMs;
      const done = read ? await this.#people.replace(key, read, next, expiresAt) : await this.#people.add(key, next, expiresAt);
      if (done) return;
    }
    throw new OAuthError('temporarily_unavailable', "the person's grants changed too often to be recorded; try again");
  }
}

function personKey(person: Pick<Person, 'issuer' | 'subject'>): string {
  return sha256(JSON.stringify([person.issuer, person.subject]));
}
