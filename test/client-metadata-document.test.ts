/**
 * Client ID Metadata Documents (docs/AUTH.md, "Clients"): a client_id that is an https URL is
 * fetched from a real https server (its certificate trusted by this test) and checked, and every
 * way a stranger could make the gateway fetch what it should not is refused: http, loopback and
 * private addresses (by name, by literal, IPv4 inside IPv6), redirects, a document too big or
 * too slow, one that names another client_id, and one that is not a public client's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPrivateAddress } from '../src/gateway/authorization-server/address-guard.js';
import { MetadataDocuments } from '../src/gateway/authorization-server/client-metadata-document.js';
import { startTlsServer, type TlsServer } from './helpers/tls-server.js';

let server: TlsServer;
let fetches = 0;
const stalled: ServerResponse[] = [];

function document(id: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ client_id: id, client_name: 'Doc client', redirect_uris: ['http://127.0.0.1:9/callback'], ...extra });
}

beforeAll(async () => {
  server = await startTlsServer((req: IncomingMessage, res: ServerResponse) => {
    fetches++;
    const id = `${server.origin}${req.url}`;
    const json = (body: string, headers: Record<string, string> = {}) =>
      res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(body);
    if (req.url === '/good.json') return json(document(id), { 'cache-control': 'max-age=60' });
    if (req.url === '/uncached.json') return json(document(id), { 'cache-control': 'no-store' });
    if (req.url === '/other-id.json') return json(document(`${server.origin}/good.json`));
    if (req.url === '/redirect.json') return void res.writeHead(302, { location: `${server.origin}/good.json` }).end();
    if (req.url === '/big.json') return json(document(id, { padding: 'x'.repeat(6000) }));
    if (req.url === '/big-chunked.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(document(id).slice(0, -1));
      return void res.end(`, "padding": "${'y'.repeat(6000)}"}`);
    }
    if (req.url === '/slow.json') return void stalled.push(res);
    if (req.url === '/secret.json') return json(document(id, { token_endpoint_auth_method: 'client_secret_basic' }));
    if (req.url === '/bad-redirect.json') return json(document(id, { redirect_uris: ['http://evil.example/cb'] }));
    if (req.url === '/not-json.json') return json('<html>');
    res.writeHead(404).end();
  });
});
afterAll(async () => {
  for (const res of stalled) res.destroy();
  await server?.close();
});

const trusting = (options: ConstructorParameters<typeof MetadataDocuments>[0] = {}) =>
  new MetadataDocuments({ ca: server.ca, allowPrivateAddresses: true, timeoutMs: 1500, ...options });

async function refusal(documents: MetadataDocuments, clientId: string): Promise<string> {
  const error = await documents.client(clientId).then(
    () => undefined,
    (thrown: unknown) => thrown as { error: string; message: string },
  );
  expect(error?.error).toBe('invalid_client');
  return error!.message;
}

describe('a client metadata document', () => {
  it('is fetched, checked and kept as long as its Cache-Control allows', async () => {
    const documents = trusting();
    const id = `${server.origin}/good.json`;
    const before = fetches;
    const client = await documents.client(id);
    expect(client).toMatchObject({
      client_id: id,
      client_name: 'Doc client',
      redirect_uris: ['http://127.0.0.1:9/callback'],
      registration: 'metadata-document',
    });
    await documents.client(id);
    expect(fetches - before).toBe(1);
    const uncached = `${server.origin}/uncached.json`;
    await documents.client(uncached);
    await documents.client(uncached);
    expect(fetches - before).toBe(3);
  });

  it('on loopback or a private address is refused unless development allows it', async () => {
    const strict = new MetadataDocuments({ ca: server.ca, timeoutMs: 1500 });
    const before = fetches;
    expect(await refusal(strict, `${server.origin}/good.json`)).toMatch(/loopback or private/);
    for (const host of [
      '127.0.0.1',
      '10.1.2.3',
      '192.168.1.1',
      '169.254.169.254',
      '[::1]',
      '[::ffff:7f00:1]',
      '[fd00::1]',
      '100.64.0.1',
      '0.0.0.0',
    ])
      expect(await refusal(strict, `https://${host}/client.json`), host).toMatch(/loopback or private/);
    // Another spelling of an address is not the URL's normal form: refused too.
    expect(await refusal(strict, 'https://[::ffff:127.0.0.1]/client.json')).toMatch(/normal form/);
    expect(fetches).toBe(before);
  });

  it('that is http, has no path, carries credentials, a fragment or dot segments, is refused before any fetch', async () => {
    const documents = trusting();
    const before = fetches;
    const port = new URL(server.origin).port;
    expect(await refusal(documents, `http://localhost:${port}/good.json`)).toMatch(/must be https/);
    expect(await refusal(documents, `https://localhost:${port}/`)).toMatch(/needs a path/);
    expect(await refusal(documents, `https://user:pw@localhost:${port}/good.json`)).toMatch(/credentials/);
    expect(await refusal(documents, `https://localhost:${port}/good.json#x`)).toMatch(/fragment/);
    expect(await refusal(documents, `https://localhost:${port}/a/../good.json`)).toMatch(/normal form|dot segments/);
    expect(fetches).toBe(before);
  });

  it('that redirects, is too big (declared or streamed), too slow, not JSON, or names another client_id is refused', async () => {
    const documents = trusting({ timeoutMs: 500 });
    expect(await refusal(documents, `${server.origin}/redirect.json`)).toMatch(/redirects \(not followed\)/);
    expect(await refusal(documents, `${server.origin}/big.json`)).toMatch(/larger than 5120 bytes/);
    expect(await refusal(documents, `${server.origin}/big-chunked.json`)).toMatch(/larger than 5120 bytes/);
    expect(await refusal(documents, `${server.origin}/slow.json`)).toMatch(/took too long/);
    expect(await refusal(documents, `${server.origin}/not-json.json`)).toMatch(/not JSON/);
    expect(await refusal(documents, `${server.origin}/other-id.json`)).toMatch(/another client_id/);
    expect(await refusal(documents, `${server.origin}/secret.json`)).toMatch(/token_endpoint_auth_method/);
    expect(await refusal(documents, `${server.origin}/bad-redirect.json`)).toMatch(/http and not loopback/);
    expect(await refusal(documents, `${server.origin}/missing.json`)).toMatch(/answered 404/);
  });

  it('a certificate nobody trusts is refused', async () => {
    expect(await refusal(new MetadataDocuments({ allowPrivateAddresses: true, timeoutMs: 1500 }), `${server.origin}/good.json`)).toMatch(
      /could not be fetched/,
    );
  });
});

describe('addresses a stranger must not make the gateway fetch', () => {
  it('private, loopback, link-local, shared and reserved ranges, also spelled inside IPv6', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd12::1',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::a00:1',
    ])
      expect(isPrivateAddress(address), address).toBe(true);
    for (const address of ['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      expect(isPrivateAddress(address), address).toBe(false);
  });
});
