/**
 * @module cli/gateway/server-specs
 * The servers of a federation (docs/FEDERATION.md, "Configuration"): `--server NAME=URL` and
 * `--server NAME=stdio:COMMAND ARGS` (repeatable), or the config file's `servers` map, whose
 * entries may also carry the per-server settings the single-server flags give globally.
 */
import { InvalidArgumentError } from 'commander';
import { createRequire } from 'node:module';
import type * as Zod from 'zod';
import { type ChildVariable, parseChildVariable } from '../../gateway/upstreams/stdio/child-environment.js';
import { SERVER_NAME } from '../../gateway/federation/names.js';
import { parseDuration } from '../units.js';
import { parseCommand, parseHeader, parseHeaderName, parseIdentityHeader, parseUpstream } from './flag-parsers.js';

export interface ServerSpec {
  name: string;
  /** An HTTP server (several: replicas of it, a pool). */
  url?: string[];
  /** A stdio server's command and arguments (one process per session). */
  stdio?: [string, ...string[]];
  /** Per server; the global flags apply where these are absent. */
  upstreamHeaders?: Record<string, string>;
  forwardHeaders?: string[];
  identityHeaders?: Record<string, string>;
  stdioEnv?: ChildVariable[];
  spares?: number;
  childIdleTimeoutMs?: number;
  /** HTTP: requests sent to it at once. */
  concurrency?: number;
  /** Each person's own credentials for it (docs/CREDENTIALS.md, "Several servers"). */
  credentials?: ServerCredentials;
}

/** A server's `credentials` entry: what `--upstream-credentials` and its companions give the single upstream. */
export interface ServerCredentials {
  kind: 'oauth' | 'secret';
  clientId?: string;
  clientSecretFile?: string;
  scope?: string;
  /** Send RFC 8707's `resource` (default true). */
  resourceIndicator?: boolean;
  authorizationServer?: string;
  secretHeader?: string;
  /** A stdio server's: the `_meta` key each request carries the key in. */
  meta?: string;
  /** A stdio server's: the variable each person's own child gets the key in. */
  env?: string;
}

/** `--server NAME=TARGET`, repeatable. */
export function parseServerFlag(text: string, previous: ServerSpec[] = []): ServerSpec[] {
  const equals = text.indexOf('=');
  const name = equals > 0 ? text.slice(0, equals) : '';
  const target = text.slice(equals + 1);
  if (!SERVER_NAME.test(name))
    throw new InvalidArgumentError(`invalid server "${text}" (use NAME=URL or NAME=stdio:COMMAND; names are [a-z0-9-])`);
  return withServer(previous, { name, ...targetOf(name, target) });
}

/**
 * The shape of a `servers` entry, built on the first entry: zod is loaded then, so a start
 * without a config file's servers does not pay the 120 ms its loading takes (bench/RESULTS.md).
 */
function entrySchema() {
  const { z } = createRequire(import.meta.url)('zod') as typeof Zod;
  return z
    .object({
      url: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
      stdio: z.string().optional(),
      headers: z.record(z.string(), z.string()).optional(),
      forwardHeaders: z.array(z.string()).optional(),
      identityHeaders: z.record(z.string(), z.string()).optional(),
      env: z.array(z.string()).optional(),
      spares: z.number().int().min(0).max(64).optional(),
      childIdleTimeout: z.union([z.string(), z.literal(0)]).optional(),
      concurrency: z.number().int().positive().optional(),
      credentials: z
        .union([
          z.enum(['oauth', 'secret']),
          z
            .object({
              kind: z.enum(['oauth', 'secret']),
              clientId: z.string().min(1).optional(),
              clientSecretFile: z.string().min(1).optional(),
              scope: z.string().min(1).optional(),
              resourceIndicator: z.boolean().optional(),
              authorizationServer: z.url({ protocol: /^https?$/ }).optional(),
              secretHeader: z.string().min(1).optional(),
              meta: z.string().min(1).max(256).optional(),
              env: z.string().min(1).optional(),
            })
            .strict(),
        ])
        .optional(),
    })
    .strict();
}
let entry: ReturnType<typeof entrySchema> | undefined;

/** One entry of the config file's `servers` map (checked field by field with the flags' own parsers). */
export function parseServerEntry(name: string, raw: unknown, previous: ServerSpec[] = []): ServerSpec[] {
  if (!SERVER_NAME.test(name)) throw new InvalidArgumentError(`server name "${name}" must be [a-z0-9-]`);
  entry ??= entrySchema();
  const parsed = entry.safeParse(raw);
  if (!parsed.success) throw new InvalidArgumentError(`server "${name}": ${parsed.error.issues.map(issueText).join('; ')}`);
  const value = parsed.data;
  if ((value.url === undefined) === (value.stdio === undefined))
    throw new InvalidArgumentError(`server "${name}": give exactly one of url or stdio`);
  const spec: ServerSpec =
    value.url !== undefined
      ? { name, url: (Array.isArray(value.url) ? value.url : [value.url]).map(parseUpstream) }
      : { name, ...targetOf(name, `stdio:${value.stdio!}`) };
  if (value.headers)
    spec.upstreamHeaders = Object.entries(value.headers).reduce((all, [header, text]) => parseHeader(`${header}: ${text}`, all), {});
  if (value.forwardHeaders) spec.forwardHeaders = value.forwardHeaders.reduce((all: string[], header) => parseHeaderName(header, all), []);
  if (value.identityHeaders)
    spec.identityHeaders = Object.entries(value.identityHeaders).reduce(
      (all, [header, claim]) => parseIdentityHeader(`${header}=${claim}`, all),
      {},
    );
  if (value.env) spec.stdioEnv = value.env.map(parseChildVariable);
  if (value.spares !== undefined) spec.spares = value.spares;
  if (value.childIdleTimeout !== undefined)
    spec.childIdleTimeoutMs = value.childIdleTimeout === 0 || value.childIdleTimeout === 'off' ? 0 : parseDuration(value.childIdleTimeout);
  if (value.concurrency !== undefined) spec.concurrency = value.concurrency;
  if (value.credentials !== undefined)
    spec.credentials = typeof value.credentials === 'string' ? { kind: value.credentials } : stripUndefined(value.credentials);
  if (spec.stdio && (spec.upstreamHeaders || spec.forwardHeaders || spec.identityHeaders || spec.concurrency))
    throw new InvalidArgumentError(`server "${name}": headers and concurrency are for HTTP servers`);
  const problem = spec.credentials && credentialsProblem(spec.credentials, spec.stdio !== undefined);
  if (problem) throw new InvalidArgumentError(`server "${name}": credentials: ${problem}`);
  if (spec.url && (spec.stdioEnv || spec.spares !== undefined || spec.childIdleTimeoutMs !== undefined))
    throw new InvalidArgumentError(`server "${name}": env, spares and childIdleTimeout are for stdio servers`);
  return withServer(previous, spec);
}

function targetOf(name: string, target: string): Pick<ServerSpec, 'url' | 'stdio'> {
  if (target.startsWith('stdio:')) {
    const command = parseCommand(target.slice('stdio:'.length));
    return { stdio: command as [string, ...string[]] };
  }
  try {
    return { url: [parseUpstream(target)] };
  } catch {
    throw new InvalidArgumentError(`server "${name}": "${target}" is neither an http(s) URL nor stdio:COMMAND`);
  }
}

function withServer(previous: ServerSpec[], spec: ServerSpec): ServerSpec[] {
  if (previous.some((known) => known.name === spec.name)) throw new InvalidArgumentError(`server "${spec.name}" is named twice`);
  return [...previous, spec];
}

/** What does not fit in a server's `credentials`: a stdio server takes keys, in `meta` or `env`; an HTTP one neither. */
function credentialsProblem(credentials: ServerCredentials, stdio: boolean): string | undefined {
  if (!stdio) return credentials.meta !== undefined || credentials.env !== undefined ? 'meta and env are for stdio servers' : undefined;
  if (credentials.kind !== 'secret')
    return 'a stdio server takes kind "secret" (it has no RFC 9728 metadata to find an authorization server)';
  if ((credentials.meta === undefined) === (credentials.env === undefined))
    return 'a stdio server needs one of meta (the _meta key each request carries the key in) and env (the variable its child gets it in)';
  if (credentials.env === undefined) return undefined;
  try {
    return parseChildVariable(credentials.env).copy ? undefined : "env is a variable's name alone";
  } catch (error) {
    return `env: ${(error as Error).message}`;
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

function issueText(issue: Zod.core.$ZodIssue): string {
  return `${issue.path.join('.') || 'entry'}: ${issue.message}`;
}
