/**
 * @module protocol/options
 * The one way options are checked, everywhere a library entry takes them (the session manager,
 * the server, the client, the stores, the SDK binding): a zod schema per options object, and
 * one error with a stable code naming the option, what it must be, and what it got
 * (docs/errors.md, "Configuration errors").
 */
import { z } from 'zod';

/** A bad option value: thrown at construction, never at request time. */
export class OptionError extends TypeError {
  readonly code = 'SG_INVALID_OPTION';
  /** The option's name (a dotted path for nested options). */
  readonly option: string;

  constructor(option: string, message: string) {
    super(message);
    this.name = 'OptionError';
    this.option = option;
  }
}

const number = (value: unknown): value is number => typeof value === 'number' && !Number.isNaN(value);

/** The checks option schemas are built from, each with the words its error uses. */
export const option = {
  positiveInteger: () => z.custom<number>((v) => Number.isSafeInteger(v) && (v as number) > 0, 'must be a positive integer'),
  nonNegativeInteger: () => z.custom<number>((v) => Number.isSafeInteger(v) && (v as number) >= 0, 'must be a non-negative integer'),
  /** A duration or a cap: Infinity allowed (no limit). */
  positiveNumber: () => z.custom<number>((v) => number(v) && v > 0, 'must be a positive number'),
  nonNegativeNumber: () => z.custom<number>((v) => number(v) && v >= 0, 'must be a non-negative number'),
  finitePositive: () => z.custom<number>((v) => number(v) && Number.isFinite(v) && v > 0, 'must be a positive number of milliseconds'),
  func: <T>() => z.custom<T>((v) => typeof v === 'function', 'must be a function'),
  strings: (what: string) =>
    z.custom<readonly string[]>((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'), `must be an array of ${what}`),
  oneOf: <const T extends readonly string[]>(values: T) =>
    z.custom<T[number]>(
      (v) => values.includes(v as string),
      `must be ${values
        .map((value) => `"${value}"`)
        .join(', ')
        .replace(/, ([^,]*)$/, ' or $1')}`,
    ),
};

/** Checks `options` against `schema` (unknown keys pass: an options object may carry others' options); throws OptionError for the first problem. */
export function checkOptions(schema: z.ZodType, options: object): void {
  const result = schema.safeParse(options);
  if (result.success) return;
  const issue = result.error.issues[0]!;
  const name = issue.path.map(String).join('.');
  let got: unknown = options;
  for (const key of issue.path) got = (got as Record<PropertyKey, unknown>)[key];
  throw new OptionError(name, `sessiongate: option "${name}" ${issue.message}, got ${describe(got)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 64));
  return typeof value === 'object' && value !== null ? 'an object' : String(value);
}
