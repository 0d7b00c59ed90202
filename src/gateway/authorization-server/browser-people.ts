/**
 * @module gateway/authorization-server/browser-people
 * Who a browser is, for the pages a person sees of their own (their grants; their connections
 * to upstream servers, docs/CREDENTIALS.md): the person who signed in at the identity provider
 * in this browser within the last 15 minutes (grants-page.ts keeps them under the hash of the
 * browser's binding cookie), or a sign-in that comes back to the page asked for.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { browserCookie, sendToProvider } from './browser-flow.js';
import { sha256 } from './grant-records.js';
import { personClaims, personPrincipal } from './issued-token-check.js';
import { personName, type Ready } from './server-context.js';

/** A person signed in in this browser. */
export interface BrowserPerson {
  /** The principal their requests carry (`Identity.principal`): whose connections are shown. */
  readonly principal: string;
  /** How pages and the audit name them. */
  readonly name: string;
  /** Their claims as their requests carry them (what a policy rule about them reads). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** What a form on their page must carry (a form posted from elsewhere lacks it). */
  readonly formToken: string;
  /** SHA-256 of the browser's binding cookie: a flow started here continues only here. */
  readonly browser: string;
}

export interface BrowserPeople {
  /** The person signed in in this browser, if any. */
  signedIn(req: IncomingMessage): Promise<BrowserPerson | undefined>;
  /** Sends the browser to sign in at the identity provider, back to `returnTo` (a path of this gateway). */
  signIn(req: IncomingMessage, res: ServerResponse, returnTo: string): Promise<void>;
}

export function browserPeople(ready: () => Ready | undefined, principalClaim: string | undefined): BrowserPeople {
  const context = () => {
    const parts = ready();
    if (!parts) throw new Error('the authorization server does not listen yet');
    return parts.context;
  };
  return {
    async signedIn(req) {
      const cookie = browserCookie(context(), req);
      if (cookie === undefined) return undefined;
      const browser = sha256(cookie);
      const manager = await context().records.managers.get(browser);
      const principal = manager && personPrincipal(manager.person, principalClaim);
      if (!manager || principal === undefined) return undefined;
      const claims = personClaims(manager.person);
      return { principal, name: personName(manager.person), claims, formToken: manager.formToken, browser };
    },
    signIn: (req, res, returnTo) => sendToProvider(context(), req, res, undefined, returnTo),
  };
}
