/**
 * @module protocol/media-type
 * Parses `Content-Type` and `Accept` properly (no substring checks): type/subtype, parameters,
 * quality values and wildcards.
 */

const CACHE_LIMIT = 256;

interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
}

function parseRange(text: string): MediaRange | undefined {
  const [essence = '', ...params] = text.split(';');
  const slash = essence.indexOf('/');
  if (slash <= 0) return undefined;
  const type = essence.slice(0, slash).trim().toLowerCase();
  const subtype = essence
    .slice(slash + 1)
    .trim()
    .toLowerCase();
  if (type === '' || subtype === '') return undefined;
  let q = 1;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq > 0 && param.slice(0, eq).trim().toLowerCase() === 'q') {
      const value = Number(param.slice(eq + 1).trim());
      q = Number.isFinite(value) ? value : 0;
    }
  }
  return { type, subtype, q };
}

const essenceCache = new Map<string, string | undefined>();

/** The `type/subtype` of a Content-Type, lower-cased, or undefined when malformed (cached). */
export function mediaTypeEssence(contentType: string | null | undefined): string | undefined {
  if (!contentType) return undefined;
  if (essenceCache.has(contentType)) return essenceCache.get(contentType);
  const range = parseRange(contentType);
  const essence = range ? `${range.type}/${range.subtype}` : undefined;
  if (essenceCache.size >= CACHE_LIMIT) essenceCache.clear();
  essenceCache.set(contentType, essence);
  return essence;
}

/** True when the `charset` parameter is absent or UTF-8 (JSON is UTF-8, RFC 8259). */
export function hasUtf8Charset(contentType: string): boolean {
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq > 0 && param.slice(0, eq).trim().toLowerCase() === 'charset') {
      const value = param
        .slice(eq + 1)
        .trim()
        .replace(/^"|"$/g, '')
        .toLowerCase();
      return value === 'utf-8' || value === 'utf8';
    }
  }
  return true;
}

const jsonTypeCache = new Map<string, boolean>();

/** True for `application/json` with no charset or a UTF-8 one (cached like `accepts`). */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  let answer = jsonTypeCache.get(contentType);
  if (answer === undefined) {
    answer = mediaTypeEssence(contentType) === 'application/json' && hasUtf8Charset(contentType);
    if (jsonTypeCache.size >= CACHE_LIMIT) jsonTypeCache.clear();
    jsonTypeCache.set(contentType, answer);
  }
  return answer;
}

/**
 * Header values repeat (clients send the same Accept on every request): remember, per Accept
 * value, which of the two MCP media types it allows. Bounded, so hostile variety costs only the
 * parse it would have cost anyway.
 */
const acceptCache = new Map<string, number>();
const ALLOWS_JSON = 1;
const ALLOWS_SSE = 2;

function allowedBits(accept: string): number {
  let bits = acceptCache.get(accept);
  if (bits === undefined) {
    bits = (parseAccepts(accept, 'application/json') ? ALLOWS_JSON : 0) | (parseAccepts(accept, 'text/event-stream') ? ALLOWS_SSE : 0);
    if (acceptCache.size >= CACHE_LIMIT) acceptCache.clear();
    acceptCache.set(accept, bits);
  }
  return bits;
}

/** C1: a POST must accept both answer forms, because the server picks one per request. */
export function acceptsJsonAndSse(accept: string | undefined): boolean {
  return accept !== undefined && accept !== '' && allowedBits(accept) === (ALLOWS_JSON | ALLOWS_SSE);
}

/** A GET must accept an event stream. */
export function acceptsSse(accept: string | undefined): boolean {
  return accept !== undefined && accept !== '' && (allowedBits(accept) & ALLOWS_SSE) !== 0;
}

/** True when the Accept header allows `mediaType` (wildcards count; q=0 refuses). */
export function accepts(accept: string | null | undefined, mediaType: string): boolean {
  return !!accept && parseAccepts(accept, mediaType);
}

function parseAccepts(accept: string, mediaType: string): boolean {
  const [type, subtype] = mediaType.split('/') as [string, string];
  for (const part of accept.split(',')) {
    const range = parseRange(part);
    if (!range || range.q <= 0) continue;
    if ((range.type === '*' || range.type === type) && (range.subtype === '*' || range.subtype === subtype)) {
      return true;
    }
  }
  return false;
}
