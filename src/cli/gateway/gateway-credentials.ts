/**
 * @module cli/gateway/gateway-credentials
 * `--upstream-credentials oauth|secret` (or a federated server's `credentials` entry): each
 * person connects the HTTP upstream with their own account there (or pastes their own key for
 * it), and their credential is sent in place of any other (docs/CREDENTIALS.md). People connect on
 * a page of their own, so the gateway must sign them in (`--auth oauth`); their tokens are
 * sealed in the vault, so a key is required (`--secrets-key-file`).
 */
import { readFileSync } from 'node:fs';
import { CredentialBroker, type CredentialBrokerOptions } from '../../gateway/credentials/credential-broker.js';
import type { GatewayFlags } from './gateway-flags.js';
import type { ServerSpec } from './server-specs.js';
import type { RequestContext } from '../../server/application.js';
import type { StdioUpstreamOptions } from '../../gateway/upstreams/stdio/stdio-upstream.js';
import { secretFrom } from './secret.js';

export const UPSTREAM_CLIENT_SECRET_VARIABLE = 'SESSIONGATE_UPSTREAM_CLIENT_SECRET';
const SECRETS_KEY_VARIABLE = 'SESSIONGATE_SECRETS_KEY';

/** The broker the flags ask for (undefined without the flag); throws a one-line reason when they do not fit. */
export function upstreamCredentials(flags: GatewayFlags, upstreamUrl: string | undefined): CredentialBroker | undefined {
  if (flags.upstreamCredentials === undefined) {
    const stray = strayCompanion(flags);
    if (stray) throw new Error(`${stray} needs --upstream-credentials`);
    return undefined;
  }
  const kind = flags.upstreamCredentials;
  if (
    kind === 'secret' &&
    (flags.upstreamClientId ??
      flags.upstreamClientSecretFile ??
      flags.upstreamScope ??
      flags.upstreamAuthorizationServer ??
      flags.upstreamResourceIndicator)
  )
    throw new Error(
      '--upstream-client-id, --upstream-client-secret-file, --upstream-scope, --upstream-authorization-server and --upstream-resource-indicator are for --upstream-credentials oauth',
    );
  if (kind === 'oauth' && flags.upstreamSecretHeader !== undefined)
    throw new Error('--upstream-secret-header is for --upstream-credentials secret');
  // A stdio server: the credential in each request's `_meta`, or in its child's environment (there are no headers).
  if (upstreamUrl === undefined) {
    if (kind === 'oauth')
      throw new Error('--upstream-credentials oauth needs an HTTP --upstream (its RFC 9728 metadata names its authorization server)');
    if ((flags.upstreamCredentialMeta === undefined) === (flags.upstreamCredentialEnv === undefined))
      throw new Error(
        "--upstream-credentials secret with --stdio needs one of --upstream-credential-meta KEY (the _meta key each request carries the person's key in) and --upstream-credential-env NAME (the variable each person's own child gets it in)",
      );
    if (flags.upstreamSecretHeader !== undefined)
      throw new Error('--upstream-secret-header is for an HTTP --upstream (stdio has no headers)');
  } else if (flags.upstreamCredentialMeta !== undefined || flags.upstreamCredentialEnv !== undefined)
    throw new Error('--upstream-credential-meta and --upstream-credential-env are for a --stdio upstream (HTTP gets a header)');
  const clientSecret = secretFrom(flags.upstreamClientSecretFile, UPSTREAM_CLIENT_SECRET_VARIABLE);
  if (clientSecret !== undefined && flags.upstreamClientId === undefined)
    throw new Error('an upstream client secret needs --upstream-client-id (the client it is the secret of)');
  return broker(flags, '--upstream-credentials', flags.forwardHeaders, {
    resource: upstreamUrl,
    kind,
    secretHeader: flags.upstreamSecretHeader,
    metaKey: flags.upstreamCredentialMeta,
    server: flags.upstreamName,
    clientId: flags.upstreamClientId,
    clientSecret,
    scope: flags.upstreamScope,
    resourceIndicator: flags.upstreamResourceIndicator !== 'off',
    authorizationServer: flags.upstreamAuthorizationServer,
  });
}

/**
 * The broker of a federated server whose config entry has `credentials` (docs/CREDENTIALS.md,
 * "Several servers"); undefined without. Named as the server is: its pages, its audit lines and
 * a rule's `requires` use that name.
 */
export function serverCredentials(flags: GatewayFlags, spec: ServerSpec): CredentialBroker | undefined {
  const settings = spec.credentials;
  if (settings === undefined) return undefined;
  const where = `server "${spec.name}": credentials`;
  const { kind } = settings;
  const oauthOnly =
    settings.clientId ?? settings.clientSecretFile ?? settings.scope ?? settings.authorizationServer ?? settings.resourceIndicator;
  if (kind === 'secret' && oauthOnly !== undefined)
    throw new Error(`${where}: clientId, clientSecretFile, scope, authorizationServer and resourceIndicator are for kind "oauth"`);
  if (kind === 'oauth' && settings.secretHeader !== undefined) throw new Error(`${where}: secretHeader is for kind "secret"`);
  const clientSecret =
    settings.clientSecretFile === undefined ? undefined : readFileSync(settings.clientSecretFile, 'utf8').trim() || undefined;
  if (clientSecret !== undefined && settings.clientId === undefined)
    throw new Error(`${where}: clientSecretFile needs clientId (the client it is the secret of)`);
  return broker(flags, where, spec.forwardHeaders ?? flags.forwardHeaders, {
    resource: spec.url?.[0],
    kind,
    secretHeader: settings.secretHeader,
    metaKey: settings.meta,
    server: spec.name,
    clientId: settings.clientId,
    clientSecret,
    scope: settings.scope,
    resourceIndicator: settings.resourceIndicator,
    authorizationServer: settings.authorizationServer,
  });
}

/** A companion of --upstream-credentials given without it. */
export function strayCompanion(flags: GatewayFlags): string | undefined {
  return [
    flags.upstreamName !== undefined && '--upstream-name',
    flags.upstreamClientId !== undefined && '--upstream-client-id',
    flags.upstreamClientSecretFile !== undefined && '--upstream-client-secret-file',
    flags.upstreamScope !== undefined && '--upstream-scope',
    flags.upstreamAuthorizationServer !== undefined && '--upstream-authorization-server',
    flags.upstreamResourceIndicator !== undefined && '--upstream-resource-indicator',
    flags.upstreamSecretHeader !== undefined && '--upstream-secret-header',
    flags.upstreamCredentialMeta !== undefined && '--upstream-credential-meta',
    flags.upstreamCredentialEnv !== undefined && '--upstream-credential-env',
  ].find((name): name is string => typeof name === 'string');
}

/** What every broker needs, checked the same way wherever it is asked for (`where` names it in the reason). */
function broker(
  flags: GatewayFlags,
  where: string,
  forwardHeaders: readonly string[] | undefined,
  options: Omit<CredentialBrokerOptions, 'secretsKey'>,
): CredentialBroker {
  const kind = options.kind ?? 'oauth';
  if (flags.auth !== 'oauth')
    throw new Error(`${where} ${kind} needs --auth oauth (people connect on a page of their own, signed in by the gateway)`);
  if (flags.upstreamTokenExchange) throw new Error(`${where} and --upstream-token-exchange both set the upstream token: pick one`);
  const header = (kind === 'secret' ? options.secretHeader : undefined)?.toLowerCase() ?? 'authorization';
  if (forwardHeaders?.includes(header))
    throw new Error(`${where} sends each person's own credential in ${header}: --forward-header ${header} would send another`);
  const secretsKey = secretFrom(flags.secretsKeyFile, SECRETS_KEY_VARIABLE);
  if (secretsKey === undefined)
    throw new Error(`${where} ${kind} needs --secrets-key-file or ${SECRETS_KEY_VARIABLE} (the vault is sealed under it)`);
  return new CredentialBroker({ ...options, secretsKey });
}

/**
 * How a stdio server gets each person's own key (the stage loaded it before the request): in
 * its child's environment when the child starts (`env`), or in a `_meta` key of each request
 * (`meta`). A caller without one gets nothing started and nothing sent.
 */
export function personalKey(
  broker: CredentialBroker,
  where: { env?: string | undefined; meta?: string | undefined },
): Pick<StdioUpstreamOptions, 'personalEnvironment' | 'personalMeta'> {
  const keyOf = (context: RequestContext): string => {
    const key = broker.credential(context.identity);
    if (key === undefined) throw new Error(`no key of the caller is held for ${broker.server}`);
    return key;
  };
  const { env, meta } = where;
  if (env !== undefined) return { personalEnvironment: (context) => ({ [env]: keyOf(context) }) };
  if (meta !== undefined) return { personalMeta: (context) => ({ [meta]: keyOf(context) }) };
  return {};
}
