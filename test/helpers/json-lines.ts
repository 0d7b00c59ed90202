/**
 * A JSON-lines file (audit logs, fixture logs) as parsed objects; none when it does not exist yet.
 */
import { existsSync, readFileSync } from 'node:fs';

/** The fields tests read from an audit line. */
export interface AuditLine {
  event: string;
  session: string;
  method?: string;
  name?: string | null;
  outcome?: string;
  reason?: string;
}

export function readJsonLines<T = Record<string, unknown>>(path: string): T[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8').trim();
  return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as T);
}
