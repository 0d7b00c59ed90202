/**
 * @module policy/duration
 * A policy's durations ("500ms", "30s", "1m", "2h", "1d"), as POLICY_SCHEMA's pattern admits them.
 */
import { OptionError } from '../protocol/options.js';
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!match) throw new OptionError('duration', `sessiongate: "${text}" is not a duration (e.g. 30s, 1m, 2h)`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}
