/**
 * @module protocol/options
 * The one way options are checked, everywhere a library entry takes them (the session manager,
 * the server, the client, the stores, the SDK binding): a schema per options object (each
 * option's check and the words its error uses), and one error with a stable code naming the
 * option, what it must be, and what it got (docs/errors.md, "Configuration errors").
 *
 * Not zod, though zod is a dependency: merely loading zod in a session server's process cost
 * the request path 10-17% throughput in a same-run A/B (bench/RESULTS.md, "Issue 16").
 */

/** A bad option value: thrown at construction, never at request time. */
export class OptionError extends TypeError {
  readonly code = 'SG_INVALID_OPTION';
  /** The option's name. */
  readonly option: string;

  constructor(option: string, message: string) {
    super(message);
    this.name = 'OptionError';
    this.option = option;
  }
}

/** One option's check: what it must be (for the error) and the test. Undefined always passes (the default applies). */
export interface OptionCheck {
  readonly must: string;
  readonly test: (value: unknown) => boolean;
  /** Undefined fails too (see `required`). */
  readonly required?: boolean;
}

/** An options object's schema: its checked options, by name. Other keys pass (an object may carry others' options). */
export type OptionsSchema = Readonly<Record<string, OptionCheck>>;

const isNumber = (value: unknown): value is number => typeof value === 'number';

/** The checks option schemas are built from. */
export const option = {
  positiveInteger: { must: 'must be a positive integer', test: (v) => Number.isSafeInteger(v) && (v as number) > 0 },
  nonNegativeInteger: { must: 'must be a non-negative integer', test: (v) => Number.isSafeInteger(v) && (v as number) >= 0 },
  /** A duration or a cap: Infinity allowed (no limit). */
  positiveNumber: { must: 'must be a positive number', test: (v) => isNumber(v) && v > 0 },
  nonNegativeNumber: { must: 'must be a non-negative number', test: (v) => isNumber(v) && v >= 0 },
  finitePositive: { must: 'must be a positive number of milliseconds', test: (v) => isNumber(v) && Number.isFinite(v) && v > 0 },
  func: { must: 'must be a function', test: (v) => typeof v === 'function' },
  boolean: { must: 'must be true or false', test: (v) => typeof v === 'boolean' },
  string: { must: 'must be a non-empty string', test: (v) => typeof v === 'string' && v !== '' },
  httpUrl: { must: 'must be an http(s) URL', test: (v) => isHttpUrl(v) },
  integerIn: (min: number, max: number): OptionCheck => ({
    must: `must be an integer from ${min} to ${max}`,
    test: (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max,
  }),
  strings: (what: string): OptionCheck => ({
    must: `must be an array of ${what}`,
    test: (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'),
  }),
  oneOf: (values: readonly string[]): OptionCheck => ({
    must: `must be ${values
      .map((value) => `"${value}"`)
      .join(', ')
      .replace(/, ([^,]*)$/, ' or $1')}`,
    test: (v) => values.includes(v as string),
  }),
  custom: (must: string, test: (value: unknown) => boolean): OptionCheck => ({ must, test }),
} satisfies Record<string, OptionCheck | ((...args: never[]) => OptionCheck)>;

/** The same check, for an option that must be given. */
export function required(check: OptionCheck): OptionCheck {
  return { ...check, required: true };
}

/** Checks `options` against `schema`; throws OptionError for the first problem. */
export function checkOptions(schema: OptionsSchema, options: object): void {
  for (const [name, check] of Object.entries(schema)) {
    const problem = problemWith(check, (options as Record<string, unknown>)[name]);
    if (problem !== undefined) throw new OptionError(name, `sessiongate: option "${name}" ${problem}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 64));
  return typeof value === 'object' && value !== null ? 'an object' : String(value);
}

/**
 * The check's verdict on one value as a message (undefined: accepted), for callers that report
 * it their own way (the CLI names the flag instead of the library option).
 */
export function problemWith(check: OptionCheck, value: unknown): string | undefined {
  if (value === undefined && !check.required) return undefined;
  return check.test(value) ? undefined : `${check.must}, got ${describe(value)}`;
}

/** An http: or https: URL, as a string or a URL. */
export function isHttpUrl(value: unknown): boolean {
  if (!(value instanceof URL) && typeof value !== 'string') return false;
  const protocol = URL.canParse(value) ? new URL(value).protocol : '';
  return protocol === 'http:' || protocol === 'https:';
}
