/**
 * @module gateway/upstreams/stdio/child-environment
 * What a stdio server's process may see of the gateway's environment. A child runs code the
 * gateway does not control, and any client can ask it to print its environment (the reference
 * server has a `get-env` tool), so it gets a short list of harmless variables and what the
 * operator names with `--stdio-env`, never the gateway's own settings or credentials
 * (docs/limits.md, "Child processes").
 */
import { OptionError } from '../../../protocol/options.js';

/** Copied from the gateway's environment when set: what a program needs to start and behave. */
export const INHERITED_VARIABLES: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'TERM',
  // Windows needs these to start most programs.
  'SYSTEMROOT',
  'COMSPEC',
  'PATHEXT',
  'WINDIR',
];

/** Never passed to a child, whatever the operator asks: the gateway's own settings and secrets. */
const RESERVED_PREFIX = 'SESSIONGATE_';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One `--stdio-env` entry: copy a variable from the gateway's environment, or set a value. */
export type ChildVariable = { name: string; copy: true } | { name: string; copy: false; value: string };

/** Parses `NAME` or `NAME=VALUE`; throws a one-line reason for a bad or reserved name. */
export function parseChildVariable(text: string): ChildVariable {
  const equals = text.indexOf('=');
  const name = equals === -1 ? text : text.slice(0, equals);
  if (!NAME.test(name)) throw new OptionError('env', `invalid variable name "${name}" (letters, digits and _)`);
  if (name.toUpperCase().startsWith(RESERVED_PREFIX))
    throw new OptionError('env', `${name}: SESSIONGATE_* variables are never given to a child`);
  return equals === -1 ? { name, copy: true } : { name, copy: false, value: text.slice(equals + 1) };
}

/** The environment of a child: the inherited list, then the operator's variables in order. */
export function childEnvironment(variables: readonly ChildVariable[], parent: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_VARIABLES) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  for (const variable of variables) {
    if (variable.name.toUpperCase().startsWith(RESERVED_PREFIX)) continue;
    const value = variable.copy ? parent[variable.name] : variable.value;
    if (value !== undefined) env[variable.name] = value;
  }
  return env;
}
