/**
 * @module cli/units
 * Durations (`500ms`, `30s`, `30m`, `24h`) and sizes (`512kb`, `4mb`, `1048576`) for flags.
 */

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or throws a message naming the accepted forms. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim().toLowerCase());
  const value = match ? Number(match[1]) * DURATION_MS[match[2]!]! : NaN;
  if (!(value > 0) || !Number.isFinite(value)) throw new Error(`invalid duration "${text}" (use e.g. 500ms, 30s, 30m, 24h)`);
  return Math.round(value);
}

/** A duration the way a person writes it: 30m, 24h, 1500ms (the largest unit that is exact). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const SIZE = /^(\d+)(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/;
const SIZE_BYTES: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** Bytes (binary units), or throws. */
export function parseSize(text: string): number {
  const match = SIZE.exec(text.trim().toLowerCase());
  const value = match ? Number(match[1]) * SIZE_BYTES[match[2] ?? 'b']! : NaN;
  if (!(value > 0) || !Number.isSafeInteger(value)) throw new Error(`invalid size "${text}" (use e.g. 65536, 512kb, 4mb)`);
  return value;
}

/** A positive integer count, or throws. */
export function parseCount(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !(value > 0) || !Number.isSafeInteger(value))
    throw new Error(`invalid count "${text}" (a positive integer)`);
  return value;
}

/** A TCP port (0 picks a free one), or throws. */
export function parsePort(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value > 65535) throw new Error(`invalid port "${text}" (0-65535)`);
  return value;
}
