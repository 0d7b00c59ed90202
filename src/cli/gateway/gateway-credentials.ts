/**
 * @module cli/gateway/gateway-credentials
 * `--upstream-credentials oauth|secret`: each person connects the HTTP upstream with their own
 * account there (or pastes their own key for it), and their credential is sent in place of any
 * other (docs/CREDENTIALS.md). People connect on
 * a page of their own, so the gateway must sign them in (`--auth oauth`); their tokens are
 * sealed in the vault, so a key is required (`--secrets-key-file`).
 */
import { CredentialBroker } from '../../gateway/credentials/credential-broker.js';
import type { GatewayFlags } from './gateway-flags.js';
import { secretFrom } from './secret.js';

export const UPSTREAM_CLIENT_SECRET_VARIABLE = 'SESSIONGATE_UPSTREAM_CLIENT_SECRET';
const SECRETS_KEY_VARIABLE = 'SESSIONGATE_SECRETS_KEY';

/** The broker the flags ask for (undefined without the flag); throws a one-line reason when they do not fit. */
export function upstreamCredentials(flags: GatewayFlags, upstreamUrl: string | undefined): CredentialBroker | undefined {
  if (flags.upstreamCredentials === undefined) {
    const stray = [
      flags.upstreamName !== undefined && '--upstream-name',
      flags.upstreamClientId !== undefined && '--upstream-client-id',
      flags.upstreamClientSecretFile !== undefined && '--upstream-client-secret-file',
      flags.upstreamScope !== undefined && '--upstream-scope',
      flags.upstreamAuthorizationServer !== undefined && '--upstream-authorization-server',
      flags.upstreamSecretHeader !== undefined && '--upstream-secret-header',
      flags.upstreamCredentialMeta !== undefined && '--upstream-credential-meta',
    ].find(Boolean);
    if (stray) throw new Error(`${stray} needs --upstream-credentials`);
    return undefined;
  }
  const kind = flags.upstreamCredentials;
  if (flags.auth !== 'oauth')
    throw new Error(`--upstream-credentials ${kind} needs --auth oauth (people connect on a page of their own, signed in by the gateway)`);
  if (
    kind === 'secret' &&
    (flags.upstreamClientId ?? flags.upstreamClientSecretFile ?? flags.upstreamScope ?? flags.upstreamAuthorizationServer)
  )
    throw new Error(
      '--upstream-client-id, --upstream-client-secret-file, --upstream-scope and --upstream-authorization-server are for --upstream-credentials oauth',
    );
  if (kind === 'oauth' && flags.upstreamSecretHeader !== undefined)
    throw new Error('--upstream-secret-header is for --upstream-credentials secret');
  if (flags.upstreamTokenExchange)
    throw new Error('--upstream-credentials and --upstream-token-exchange both set the upstream token: pick one');
  // A stdio server: the credential in each request's `_meta` (there are no headers).
  if (upstreamUrl === undefined) {
    if (kind === 'oauth')
      throw new Error('--upstream-credentials oauth needs an HTTP --upstream (its RFC 9728 metadata names its authorization server)');
    if (flags.upstreamCredentialMeta === undefined)
      throw new Error(
        "--upstream-credentials secret with --stdio needs --upstream-credential-meta KEY (the _meta key each request carries the person's key in)",
      );
    if (flags.upstreamSecretHeader !== undefined)
      throw new Error('--upstream-secret-header is for an HTTP --upstream (stdio has no headers)');
  } else if (flags.upstreamCredentialMeta !== undefined)
    throw new Error('--upstream-credential-meta is for a --stdio upstream (HTTP gets a header)');
  const header = (kind === 'secret' ? flags.upstreamSecretHeader : undefined)?.toLowerCase() ?? 'authorization';
  if (flags.forwardHeaders?.includes(header))
    throw new Error(
      `--upstream-credentials sends each person's own credential in ${header}: --forward-header ${header} would send another`,
    );
  const secretsKey = secretFrom(flags.secretsKeyFile, SECRETS_KEY_VARIABLE);
  if (secretsKey === undefined)
    throw new Error(`--upstream-credentials ${kind} needs --secrets-key-file or ${SECRETS_KEY_VARIABLE} (the vault is sealed under it)`);
  const clientSecret = secretFrom(flags.upstreamClientSecretFile, UPSTREAM_CLIENT_SECRET_VARIABLE);
  if (clientSecret !== undefined && flags.upstreamClientId === undefined)
    throw new Error('an upstream client secret needs --upstream-client-id (the client it is the secret of)');
  return new CredentialBroker({
    resource: upstreamUrl,
    kind,
    secretHeader: flags.upstreamSecretHeader,
    metaKey: flags.upstreamCredentialMeta,
    secretsKey,
    server: flags.upstreamName,
    clientId: flags.upstreamClientId,
    clientSecret,
    scope: flags.upstreamScope,
    authorizationServer: flags.upstreamAuthorizationServer,
  });
}
