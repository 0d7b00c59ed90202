/**
 * @module gateway/authorization-server/pages
 * The pages a person sees while signing in through the gateway: the consent question and the
 * errors that cannot be sent back to a client. Plain HTML forms, no script at all, one
 * stylesheet of our own, under a Content-Security-Policy that allows nothing else and no
 * framing (a consent page in someone's frame is a clickjacking target). Everything shown that a
 * client chose (its name, its redirect host) is escaped.
 */
import type { ServerResponse } from 'node:http';
import type { ClientGrant } from './grant-records.js';

const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'self'; img-src https:; base-uri 'none'; frame-ancestors 'none'";

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

export const STYLESHEET = `:root { font-family: system-ui, sans-serif; color: #1b1b1b; background: #fafafa; }
body { margin: 0; }
header { padding: 0.75rem 1rem; background: #10243e; color: #fff; }
header p { font-size: 1.15rem; font-weight: 600; margin: 0; }
main { max-width: 34rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.4rem; }
.card { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 1rem 1.25rem; }
.client { display: flex; gap: 0.75rem; align-items: center; }
.client img { width: 48px; height: 48px; object-fit: contain; }
.grants { list-style: none; padding: 0; display: grid; gap: 1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.4rem 1rem; }
dt { color: #4a5560; }
dd { margin: 0; word-break: break-all; }
.actions { display: flex; gap: 0.75rem; margin-top: 1.25rem; }
button { font: inherit; padding: 0.5rem 1.1rem; border-radius: 6px; border: 1px solid #10243e; cursor: pointer; }
button.allow { background: #10243e; color: #fff; }
button.deny { background: #fff; color: #10243e; }
button:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
`;

/** Text safe inside HTML elements and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Sessiongate</title><link rel="stylesheet" href="/oauth/style.css"></head>
<body><header><p>Sessiongate</p></header>
<main>${body}</main></body></html>`;
}

export interface ConsentView {
  signIn: string;
  formToken: string;
  clientName: string;
  clientId: string;
  logoUri: string | undefined;
  redirectHost: string;
  scopes: readonly string[];
  person: string;
  resource: string;
}

export function consentPage(res: ServerResponse, view: ConsentView): void {
  const scopes = view.scopes.length > 0 ? view.scopes.map(escapeHtml).join(', ') : 'access to the MCP server as you';
  const logo = view.logoUri ? `<img src="${escapeHtml(view.logoUri)}" alt="">` : '';
  const body = `<h1>Allow ${escapeHtml(view.clientName)} to act as you?</h1>
<div class="card">
<div class="client">${logo}<p><strong>${escapeHtml(view.clientName)}</strong> asks to use ${escapeHtml(view.resource)} in your name.</p></div>
<dl>
<dt>Signed in as</dt><dd>${escapeHtml(view.person)}</dd>
<dt>Client</dt><dd>${escapeHtml(view.clientId)}</dd>
<dt>Sends you back to</dt><dd>${escapeHtml(view.redirectHost)}</dd>
<dt>Access</dt><dd>${scopes}</dd>
</dl>
<form method="post" action="/oauth/consent">
<input type="hidden" name="sign_in" value="${escapeHtml(view.signIn)}">
<input type="hidden" name="form_token" value="${escapeHtml(view.formToken)}">
<div class="actions"><button class="allow" type="submit" name="decision" value="allow">Allow</button>
<button class="deny" type="submit" name="decision" value="deny">Deny</button></div>
</form></div>`;
  res.writeHead(200, PAGE_HEADERS).end(page('Allow access', body));
}

export interface GrantsView {
  person: string;
  formToken: string;
  grants: readonly ClientGrant[];
}

/** What the person allowed, each client with a button that withdraws it. */
export function grantsPage(res: ServerResponse, view: GrantsView): void {
  const rows = view.grants.map(
    (grant) => `<li class="card"><p><strong>${escapeHtml(grant.clientName ?? grant.clientId)}</strong></p>
<dl><dt>Client</dt><dd>${escapeHtml(grant.clientId)}</dd>
<dt>Access</dt><dd>${grant.scope.length > 0 ? grant.scope.map(escapeHtml).join(', ') : 'as you'}</dd>
<dt>Allowed</dt><dd>${grant.consentedAt === undefined ? '-' : new Date(grant.consentedAt).toISOString().slice(0, 10)}</dd>
<dt>Signed-in grants</dt><dd>${grant.families.length}</dd></dl>
<form method="post" action="/oauth/grants"><input type="hidden" name="client_id" value="${escapeHtml(grant.clientId)}">
<input type="hidden" name="form_token" value="${escapeHtml(view.formToken)}">
<div class="actions"><button class="deny" type="submit">Withdraw access of ${escapeHtml(grant.clientName ?? grant.clientId)}</button></div></form></li>`,
  );
  const body = `<h1>Applications you allowed</h1><p>Signed in as ${escapeHtml(view.person)}.</p>
${rows.length > 0 ? `<ul class="grants">${rows.join('\n')}</ul>` : '<p class="card">You have not allowed any application.</p>'}`;
  res.writeHead(200, PAGE_HEADERS).end(page('Applications you allowed', body));
}

/** A page of the gateway's own (`body`: HTML whose every variable part went through `escapeHtml`). */
export function sendPage(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, PAGE_HEADERS).end(page(title, body));
}

/** A failure that cannot go back to the client (its redirect URI is unknown or not its own): said to the person. */
export function errorPage(res: ServerResponse, status: number, message: string): void {
  const body = `<h1>This sign-in cannot go on</h1><div class="card"><p>${escapeHtml(message)}</p>
<p>Go back to the application and start again.</p></div>`;
  res.writeHead(status, PAGE_HEADERS).end(page('Sign-in failed', body));
}
