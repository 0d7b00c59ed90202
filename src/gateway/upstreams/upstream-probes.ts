/**
 * @module gateway/upstreams/upstream-probes
 * A misconfigured upstream is found at start-up, with its real reason, instead of by the first
 * user as "the upstream process is not running" on every call: a stdio command is started once
 * and must answer an initialize; an HTTP upstream must answer an initialize as an MCP server does (its
 * session, if any, is DELETEd at once). The same HTTP probe serves `/readyz`.
 */
import { request } from 'undici';
import { DEFAULT_PROBE_TIMEOUT_MS, ProbeTimeout, stdioProbe } from '../federation/server-probe.js';
import type { StdioCommand } from './stdio/stdio-child.js';
import { LATEST_HANDSHAKE_REVISION } from '../../protocol/revisions.js';
import { internalRequestId } from '../../protocol/internal-ids.js';

const STDERR_LINES_KEPT = 5;

/**
 * Starts the command once and asks it to initialize, as the gateway will for every session;
 * undefined when it answered within `timeoutMs`, else why not: it exited (its last stderr lines
 * shown), refused, or never answered (a command that does not speak MCP on stdio, such as
 * `cat`, or one slower than `--probe-timeout`).
 */
export async function probeStdio(command: StdioCommand, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<string | undefined> {
  const stderr: string[] = [];
  const probe = stdioProbe(command, timeoutMs, (line) => void (stderr.push(line) > STDERR_LINES_KEPT && stderr.shift()));
  try {
    await probe();
    return undefined;
  } catch (error) {
    // Let the last stderr lines arrive: the pipe may deliver them after 'exit'.
    await new Promise((resolve) => setImmediate(resolve));
    const shown = [command.command, ...command.args].join(' ');
    const tail = stderr.length > 0 ? `; its last stderr lines:\n  ${stderr.join('\n  ')}` : '';
    if (error instanceof ProbeTimeout)
      return `the stdio server "${shown}" did not answer an initialize within ${error.ms / 1000} s: is it an MCP server speaking JSON-RPC on stdout? (a slow one: --probe-timeout)${tail}`;
    // "it exited with code 3", "it could not be started: ...", "it refused the initialize"
    return `the stdio server "${shown}" ${(error as Error).message.replace(/^it /, '')}${tail}`;
  }
}

/**
 * POSTs an initialize; undefined when the answer is an MCP server's, else why not. A sessionless
 * (2026-07-28) server answers initialize with "method not found", which counts as an answer.
 */
export async function probeHttp(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 3000,
  tokenRequired = false,
): Promise<string | undefined> {
  const shown = new URL(url).origin + new URL(url).pathname;
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: internalRequestId('probe'),
    method: 'initialize',
    params: { protocolVersion: LATEST_HANDSHAKE_REVISION, capabilities: {}, clientInfo: { name: 'sessiongate-probe', version: '0' } },
  });
  let answer;
  try {
    answer = await request(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return describeConnectionError(error, shown);
  }
  const text = (await answer.body.text().catch(() => '')).slice(0, 64 * 1024);
  const sessionId = answer.headers['mcp-session-id'];
  if (typeof sessionId === 'string') await endProbeSession(url, headers, sessionId);
  // A resource server asking for a token is there: the gateway will bring each caller's.
  if (tokenRequired && answer.statusCode === 401 && /^bearer\b/i.test(String(answer.headers['www-authenticate'] ?? ''))) return undefined;
  const kind = /"result"\s*:/.test(text) ? 'result' : /"code"\s*:\s*-32601\b/.test(text) ? 'method-not-found' : 'other';
  if ((answer.statusCode === 200 && kind === 'result') || kind === 'method-not-found') return undefined;
  if (await speaksHttpSse(url, headers, timeoutMs))
    return `the upstream at ${shown} speaks the deprecated HTTP+SSE transport (protocol 2024-11-05: a GET stream that names a POST endpoint), which Streamable HTTP cannot reach: add --upstream-transport sse, or point --upstream at the server's Streamable HTTP endpoint (often /mcp)`;
  return `the upstream at ${shown} answered an initialize with HTTP ${answer.statusCode}${kind === 'other' ? ' and no MCP answer (is the path right?)' : ''}`;
}

/**
 * Whether `url` is an HTTP+SSE endpoint of the 2024-11-05 transport: a GET opens a stream whose
 * first event is `endpoint` (where to POST). Read for at most `timeoutMs`, then let go; a
 * connection that fails throws.
 */
async function namesAnEndpoint(url: string, headers: Record<string, string>, timeoutMs: number): Promise<boolean> {
  const signal = AbortSignal.timeout(timeoutMs);
  const answer = await request(url, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' }, signal });
  if (answer.statusCode !== 200 || !String(answer.headers['content-type'] ?? '').startsWith('text/event-stream')) {
    await answer.body.dump();
    return false;
  }
  let seen = '';
  for await (const chunk of answer.body) {
    seen += (chunk as Buffer).toString();
    if (/^event:\s*endpoint\s*$/m.test(seen)) break;
    if (seen.length > 4096) break;
  }
  answer.body.destroy();
  return /^event:\s*endpoint\s*$/m.test(seen);
}

/** The same, a failed connection counting as no. */
async function speaksHttpSse(url: string, headers: Record<string, string>, timeoutMs: number): Promise<boolean> {
  return namesAnEndpoint(url, headers, timeoutMs).catch(() => false);
}

/** For `--upstream-transport sse`: undefined when `url` is an HTTP+SSE event stream that names its endpoint, else why not. */
export async function probeHttpSse(url: string, headers: Record<string, string>, timeoutMs: number): Promise<string | undefined> {
  const shown = new URL(url).origin + new URL(url).pathname;
  try {
    if (await namesAnEndpoint(url, headers, timeoutMs)) return undefined;
  } catch (error) {
    return describeConnectionError(error, shown);
  }
  return `the upstream at ${shown} is not an HTTP+SSE event stream (a GET that names a POST endpoint); for Streamable HTTP leave out --upstream-transport`;
}

function describeConnectionError(error: unknown, shown: string): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ECONNREFUSED') return `connection refused to ${shown} (is it running?)`;
  if (code === 'ENOTFOUND') return `cannot resolve the host of ${shown}`;
  if ((error as Error).name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT') return `no answer from ${shown} in time`;
  return `cannot reach ${shown}: ${(error as Error).message}`;
}

async function endProbeSession(url: string, headers: Record<string, string>, sessionId: string): Promise<void> {
  try {
    const answer = await request(url, {
      method: 'DELETE',
      headers: { ...headers, 'mcp-session-id': sessionId },
      signal: AbortSignal.timeout(3000),
    });
    await answer.body.dump();
  } catch {
    // Best effort: the probe's session expires on the upstream anyway.
  }
}

/**
 * Every replica is probed; undefined when one answers (a pool starts with one replica up; the
 * others join as health checks find them), else the first one's problem.
 */
export async function probePool(
  urls: readonly string[],
  headers: Record<string, string> | undefined,
  tokenRequired = false,
): Promise<string | undefined> {
  const problems = await Promise.all(urls.map((url) => probeHttp(url, headers, 3000, tokenRequired)));
  if (problems.some((problem) => problem === undefined)) return undefined;
  return `${problems[0]!}${urls.length > 1 ? ' (and no other replica answered)' : ''}`;
}
