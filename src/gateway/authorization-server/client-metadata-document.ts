/**
 * @module gateway/authorization-server/client-metadata-document
 * Client ID Metadata Documents (CIMD; MCP authorization 2025-11-25, "Client ID Metadata
 * Documents"): a `client_id` that is an https URL names a JSON document the client publishes
 * there. Fetching a URL a stranger chose is the classic server-side request forgery, so: https
 * only, no credentials or fragment in it, never to a loopback or private address (checked
 * after resolution and pinned, address-guard.ts) unless the operator allows it for development,
 * no redirects followed, a size and a time limit, and its `client_id` must be the URL exactly.
 * Kept as long as its Cache-Control allows (at most a day), in this process.
 */
import { Agent, request } from 'undici';
import { ExpiringCache } from '../../auth/expiring-cache.js';
import { checkedAddress } from './address-guard.js';
import { clientRecord } from './client-metadata.js';
import type { ClientRecord } from './grant-records.js';
import { OAuthError } from './oauth-error.js';

export interface MetadataDocumentOptions {
  /** Fetch documents from loopback and private addresses (development only). Default false. */
  allowPrivateAddresses?: boolean;
  /** Largest document read, bytes. Default 5,120 (the CIMD draft's recommendation). */
  maxBytes?: number;
  /** How long a fetch may take in all, ms. Default 5,000. */
  timeoutMs?: number;
  /** Extra certificate authorities to trust (PEM), for a test or a private CA. Default: the system's. */
  ca?: string | readonly string[];
  /** Longest a document is kept without fetching it again, ms. Default 86,400,000 (a day). */
  maxCacheMs?: number;
  /** Kept when the answer says nothing about caching, ms. Default 300,000. */
  defaultCacheMs?: number;
}

/** Whether `clientId` names a metadata document (an https URL) rather than a registered client. */
export function isMetadataDocumentUrl(clientId: string): boolean {
  return clientId.startsWith('https://');
}

export class MetadataDocuments {
  readonly #options: Required<Omit<MetadataDocumentOptions, 'ca'>> & { ca?: string | readonly string[] };
  readonly #cache = new ExpiringCache<ClientRecord>(1000);

  constructor(options: MetadataDocumentOptions = {}) {
    this.#options = {
      allowPrivateAddresses: options.allowPrivateAddresses ?? false,
      maxBytes: options.maxBytes ?? 5120,
      timeoutMs: options.timeoutMs ?? 5000,
      maxCacheMs: options.maxCacheMs ?? 86_400_000,
      defaultCacheMs: options.defaultCacheMs ?? 300_000,
      ...(options.ca !== undefined && { ca: options.ca }),
    };
  }

  /**
   * The client `clientId` describes, or a thrown `invalid_client` saying why not. `beforeFetch`
   * runs when the document is not kept, before anything else is done for it (a rate limit).
   */
  async client(clientId: string, beforeFetch?: () => Promise<void>): Promise<ClientRecord> {
    const now = Date.now();
    const kept = this.#cache.get(clientId, now);
    if (kept) return kept;
    await beforeFetch?.();
    const url = documentUrl(clientId);
    const { document, cacheMs } = await this.#fetch(url);
    if (document['client_id'] !== clientId)
      throw new OAuthError('invalid_client', 'the client metadata document names another client_id than its own URL');
    let record: ClientRecord;
    try {
      record = clientRecord(clientId, document, 'metadata-document');
    } catch (error) {
      throw new OAuthError('invalid_client', `the client metadata document is not acceptable: ${(error as Error).message}`);
    }
    if (cacheMs > 0) this.#cache.set(clientId, record, now + cacheMs);
    return record;
  }

  async #fetch(url: URL): Promise<{ document: Record<string, unknown>; cacheMs: number }> {
    const { allowPrivateAddresses, timeoutMs, maxBytes } = this.#options;
    const pinned = await checkedAddress(url.hostname, allowPrivateAddresses);
    const dispatcher = new Agent({
      connect: {
        // Connect to the address checked, whatever the name resolves to by then (DNS rebinding).
        lookup: (_host, options, callback) =>
          (options as { all?: boolean }).all ? callback(null, [pinned] as never) : callback(null, pinned.address, pinned.family),
        servername: url.hostname,
        ...(this.#options.ca !== undefined && { ca: this.#options.ca as string | string[] }),
        timeout: timeoutMs,
      },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const answer = await request(url, { method: 'GET', headers: { accept: 'application/json' }, dispatcher, signal }).catch(
        (error: unknown) => {
          throw new OAuthError('invalid_client', `the client metadata document could not be fetched: ${reason(error)}`);
        },
      );
      if (answer.statusCode !== 200) {
        await answer.body.dump().catch(() => {});
        const what = answer.statusCode >= 300 && answer.statusCode < 400 ? 'redirects (not followed)' : `answered ${answer.statusCode}`;
        throw new OAuthError('invalid_client', `the client metadata document's URL ${what}`);
      }
      const declared = Number(answer.headers['content-length'] ?? 0);
      if (declared > maxBytes) {
        answer.body.destroy();
        throw new OAuthError('invalid_client', `the client metadata document is larger than ${maxBytes} bytes`);
      }
      const text = await boundedText(answer.body, maxBytes);
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch {
        throw new OAuthError('invalid_client', 'the client metadata document is not JSON');
      }
      if (typeof document !== 'object' || document === null || Array.isArray(document))
        throw new OAuthError('invalid_client', 'the client metadata document is not a JSON object');
      return { document: document as Record<string, unknown>, cacheMs: this.#cacheMs(answer.headers['cache-control']) };
    } finally {
      void dispatcher.close().catch(() => {});
    }
  }

  /** How long the answer may be kept: its max-age (no-store, no-cache: not at all), bounded. */
  #cacheMs(header: string | string[] | undefined): number {
    const value = Array.isArray(header) ? header.join(',') : (header ?? '');
    if (/\b(no-store|no-cache)\b/i.test(value)) return 0;
    const maxAge = /\bmax-age=(\d+)/i.exec(value)?.[1];
    const ms = maxAge === undefined ? this.#options.defaultCacheMs : Number(maxAge) * 1000;
    return Math.min(ms, this.#options.maxCacheMs);
  }
}

/** The URL of a metadata document `client_id`: https, with a path, no credentials, fragment or dot segments. */
function documentUrl(clientId: string): URL {
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    throw new OAuthError('invalid_client', 'client_id is not a URL');
  }
  if (url.protocol !== 'https:') throw new OAuthError('invalid_client', 'a client metadata document URL must be https');
  if (url.username !== '' || url.password !== '' || url.hash !== '' || clientId.includes('#'))
    throw new OAuthError('invalid_client', 'a client metadata document URL carries no credentials or fragment');
  if (url.pathname === '/' || /\/\.\.?(\/|$)/.test(clientId.slice(url.origin.length)))
    throw new OAuthError('invalid_client', 'a client metadata document URL needs a path without dot segments');
  if (url.href !== clientId) throw new OAuthError('invalid_client', 'a client metadata document URL must be written in its normal form');
  return url;
}

async function boundedText(body: AsyncIterable<Buffer> & { destroy(): unknown }, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new OAuthError('invalid_client', `the client metadata document is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reason(error: unknown): string {
  const name = (error as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError' || /Timeout/.test(name ?? '')) return 'it took too long';
  return (error as Error).message ?? String(error);
}
