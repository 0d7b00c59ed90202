/**
 * @module cli/config-file
 * `--config FILE`: the same settings as the flags, in JSON, keyed by flag name
 * (`{ "upstream": "http://...", "idle-timeout": "30m", "max-sessions": 1000 }`). Precedence:
 * flag, then environment variable (`SESSIONGATE_IDLE_TIMEOUT`...), then the file, then the
 * default. Values go through the flag's own parser, so they are checked the same way; unknown
 * keys are an error naming the key.
 */
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';

/** A setting's value in the file: a flag's text, number or switch, a list of texts, or a map (`servers`). */
type Setting = string | number | boolean | string[] | Record<string, unknown>;

function isSetting(value: unknown): value is Setting {
  if (Array.isArray(value)) return value.every((item) => typeof item === 'string');
  return ['string', 'number', 'boolean'].includes(typeof value) || (typeof value === 'object' && value !== null);
}

/**
 * A repeatable option the file may also give as a map under its plural name (`servers` for
 * `--server`): each entry, by name, goes through `configEntry`.
 */
export type MapOption = Option & { configEntry?: (name: string, raw: unknown, previous: unknown) => unknown };

/** The environment variable of a flag: `--idle-timeout` -> `SESSIONGATE_IDLE_TIMEOUT`. */
export function envName(flag: string): string {
  return `SESSIONGATE_${flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase()}`;
}

/**
 * An option with its environment variable. Commander wires the variable only when it is set
 * before `addOption`, so every setting is created through here.
 */
export function envOption(flags: string, description: string): Option {
  const option = new Option(flags, description);
  if (option.long) option.env(envName(option.long));
  return option;
}

/** Applies the file's values to options that neither a flag nor the environment set. */
export function applyConfigFile(command: Command, path: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InvalidArgumentError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  const known = new Map(command.options.filter((o) => o.long).map((o) => [o.long!.slice(2), o]));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every(isSetting))
    throw new InvalidArgumentError(`config file ${path}: must be a JSON object of flag names to values`);
  for (const [key, raw] of Object.entries(parsed as Record<string, Setting>)) {
    if (!Array.isArray(raw) && typeof raw === 'object') {
      applyMap(command, path, key, raw, known.get(key.replace(/s$/, '')));
      continue;
    }
    const option = known.get(key);
    if (!option || key === 'config') throw new InvalidArgumentError(`config file ${path}: unknown setting "${key}"`);
    const name = option.attributeName();
    const source = command.getOptionValueSource(name);
    if (source === 'cli' || source === 'env') continue;
    const items = Array.isArray(raw) ? raw : [raw];
    let current: unknown = undefined;
    for (const item of items) {
      const text = String(item);
      try {
        current = option.parseArg ? option.parseArg(text, current) : option.isBoolean() ? item === true || text === 'true' : text;
      } catch (error) {
        throw new InvalidArgumentError(`config file ${path}: "${key}": ${(error as Error).message}`);
      }
    }
    command.setOptionValueWithSource(name, current, 'config');
  }
}

function applyMap(command: Command, path: string, key: string, raw: Record<string, unknown>, option: MapOption | undefined): void {
  if (!option?.configEntry || !key.endsWith('s')) throw new InvalidArgumentError(`config file ${path}: "${key}" cannot be a map`);
  const name = option.attributeName();
  const source = command.getOptionValueSource(name);
  if (source === 'cli' || source === 'env') return;
  let current: unknown = undefined;
  for (const [entryName, entry] of Object.entries(raw)) {
    try {
      current = option.configEntry(entryName, entry, current);
    } catch (error) {
      throw new InvalidArgumentError(`config file ${path}: "${key}": ${(error as Error).message}`);
    }
  }
  command.setOptionValueWithSource(name, current, 'config');
}
