/**
 * @module gateway/authorization-server/client-metadata
 * A client's metadata, from a registration request (RFC 7591) or a Client ID Metadata Document
 * (CIMD), checked the same way: redirect URIs that may be registered, a public client (no
 * secret: `token_endpoint_auth_method` is `none`), the code flow only, and names and links of
 * bounded size, since the consent page shows them.
 */
import type { ClientRecord } from './grant-records.js';
import { OAuthError } from './oauth-error.js';
import { redirectUriProblem } from './redirect-uri.js';

const MAX_REDIRECT_URIS = 10;
const MAX_NAME = 200;

/** The client record for `metadata`, or a thrown `invalid_redirect_uri` / `invalid_client_metadata`. */
export function clientRecord(clientId: string, metadata: unknown, registration: ClientRecord['registration']): ClientRecord {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    throw new OAuthError('invalid_client_metadata', 'client metadata must be a JSON object');
  const fields = metadata as Record<string, unknown>;
  const uris = fields['redirect_uris'];
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > MAX_REDIRECT_URIS)
    throw new OAuthError('invalid_redirect_uri', `redirect_uris must list 1 to ${MAX_REDIRECT_URIS} redirect URIs`);
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new OAuthError('invalid_redirect_uri', problem);
  }
  const method = fields['token_endpoint_auth_method'];
  if (method !== undefined && method !== 'none')
    throw new OAuthError(
      'invalid_client_metadata',
      'token_endpoint_auth_method must be "none": this server registers public clients, which prove themselves by PKCE',
    );
  if ('client_secret' in fields) throw new OAuthError('invalid_client_metadata', 'a public client has no client_secret');
  onlyFrom(fields, 'grant_types', ['authorization_code', 'refresh_token']);
  onlyFrom(fields, 'response_types', ['code']);
  const applicationType = fields['application_type'];
  if (applicationType !== undefined && applicationType !== 'web' && applicationType !== 'native')
    throw new OAuthError('invalid_client_metadata', 'application_type must be "web" or "native"');
  return {
    client_id: clientId,
    redirect_uris: uris as string[],
    ...text(fields, 'client_name', MAX_NAME),
    ...link(fields, 'client_uri'),
    ...link(fields, 'logo_uri'),
    ...(applicationType !== undefined && { application_type: applicationType }),
    registration,
  };
}

function onlyFrom(fields: Record<string, unknown>, name: string, allowed: readonly string[]): void {
  const value = fields[name];
  if (value === undefined) return;
  if (!Array.isArray(value) || !value.every((item) => allowed.includes(item as string)))
    throw new OAuthError('invalid_client_metadata', `${name} may hold only ${allowed.join(', ')}`);
}

function text(fields: Record<string, unknown>, name: string, max: number): Record<string, string> {
  const value = fields[name];
  if (value === undefined) return {};
  if (typeof value !== 'string' || value.length > max)
    throw new OAuthError('invalid_client_metadata', `${name} must be a string of at most ${max} characters`);
  return { [name]: value };
}

function link(fields: Record<string, unknown>, name: string): Record<string, string> {
  const value = fields[name];
  if (value === undefined) return {};
  if (typeof value !== 'string' || value.length > 2000 || !/^https:\/\//.test(value))
    throw new OAuthError('invalid_client_metadata', `${name} must be an https URL`);
  return { [name]: value };
}
