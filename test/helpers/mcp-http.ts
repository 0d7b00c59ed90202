/**
 * Raw MCP-over-HTTP helpers for the rule tests: real sockets, no client library in between.
 */
export const ACCEPT_BOTH = 'application/json, text/event-stream';

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export async function send(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown; rawBody?: string },
): Promise<RawAnswer> {
  const method = init.method ?? 'POST';
  const headers: Record<string, string> = method === 'POST' ? { 'content-type': 'application/json', accept: ACCEPT_BOTH } : {};
  Object.assign(headers, init.headers);
  const body = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export function initializeRequest(protocolVersion = '2025-11-25', id: number | string = 1): Record<string, unknown> {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'rule-test', version: '1.0.0' } },
  };
}

/** Initializes a session and returns its id. */
export async function openSession(url: string, protocolVersion = '2025-11-25', headers: Record<string, string> = {}): Promise<string> {
  const answer = await send(url, { body: initializeRequest(protocolVersion), headers });
  const id = answer.headers.get('mcp-session-id');
  if (answer.status !== 200 || !id) throw new Error(`initialize failed: ${answer.status} ${answer.text}`);
  const initialized = await send(url, {
    body: { jsonrpc: '2.0', method: 'notifications/initialized' },
    headers: { 'mcp-session-id': id, 'mcp-protocol-version': protocolVersion, ...headers },
  });
  if (initialized.status !== 202) throw new Error(`initialized notification failed: ${initialized.status}`);
  return id;
}

export function toolCall(name: string, args: Record<string, unknown>, id: number | string = 2): Record<string, unknown> {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}

/** The JSON-RPC messages of an SSE body. */
export function sseMessages(text: string): unknown[] {
  return text
    .split('\n\n')
    .map((event) =>
      event
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim())
        .join('\n'),
    )
    .filter((data) => data !== '')
    .map((data) => JSON.parse(data) as unknown);
}

/** A GET stream (S6), read message by message. */
export interface SseReader {
  status: number;
  /** The next message, or undefined when none came within `ms` or the stream ended. */
  next(ms?: number): Promise<unknown>;
  /** Resolves when the server ended the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens the session's GET stream (S6). */
export function openGetStream(url: string, headers: Record<string, string>): Promise<SseReader> {
  return openSse(url, { headers: { accept: 'text/event-stream', ...headers } });
}

/** A POST whose answer is read message by message (an SSE stream, or one JSON response). */
export function postStream(url: string, headers: Record<string, string>, body: unknown): Promise<SseReader> {
  return openSse(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH, ...headers },
    body: JSON.stringify(body),
  });
}

/**
 * Request ids must not be reused within a session: a second request under an id still in
 * flight is refused with 409 (SG_REQUEST_ID_IN_USE), and the first goes on unharmed. Checked
 * with a call that stays in flight until the client answers the server's sampling request
 * (the `ask` tool of the fixtures). Returns what happened, for the test to check.
 */
export async function reuseIdInFlight(url: string): Promise<IdReuse> {
  const init = initializeRequest();
  (init['params'] as { capabilities: object }).capabilities = { sampling: {} };
  const opened = await send(url, { body: init });
  const headers = { 'mcp-session-id': opened.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
  await send(url, { body: { jsonrpc: '2.0', method: 'notifications/initialized' }, headers });
  const getStream = await openGetStream(url, headers);
  const opening = postStream(url, headers, toolCall('ask', {}, 7));
  // The sampling request rides on the call's stream, or on the GET stream when the server sent
  // it without a related request id (the SDK fixture does).
  const firstOfCall = opening.then((call) => call.next()) as Promise<{ id: number; method?: string } | undefined>;
  const asked = (await Promise.race([getStream.next(), firstOfCall])) as { id: number; method: string };
  if (asked?.method !== 'sampling/createMessage') throw new Error(`expected the sampling request, got ${JSON.stringify(asked)}`);
  const refused = await send(url, { body: toolCall('echo', { text: 'second' }, 7), headers });
  const answer = { jsonrpc: '2.0', id: asked.id, result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'yes' } } };
  await send(url, { body: answer, headers });
  let first = await firstOfCall;
  if (first?.method === 'sampling/createMessage') first = (await (await opening).next()) as typeof first;
  const reused = await send(url, { body: toolCall('echo', { text: 'again' }, 7), headers });
  getStream.close();
  const refusal = refused.json as { id?: unknown; error?: { code?: unknown; data?: { code?: unknown } } };
  const textOf = (message: unknown): unknown => (message as { result?: { content?: { text?: unknown }[] } })?.result?.content?.[0]?.text;
  return {
    refused: { status: refused.status, id: refusal.id, rpc: refusal.error?.code, code: refusal.error?.data?.code },
    first: { id: (first as { id?: unknown })?.id, text: textOf(first) },
    reused: { status: reused.status, text: textOf(reused.json) },
  };
}

/** What `reuseIdInFlight` sees. */
export interface IdReuse {
  refused: { status: number; id: unknown; rpc: unknown; code: unknown };
  first: { id: unknown; text: unknown };
  reused: { status: number; text: unknown };
}

/** The right outcome: the second refused (409, -32600), the first answered, the id free again once it is. */
export const ID_REUSE_REFUSED: IdReuse = {
  refused: { status: 409, id: 7, rpc: -32600, code: 'SG_REQUEST_ID_IN_USE' },
  first: { id: 7, text: 'client said yes' },
  reused: { status: 200, text: 'again' },
};

async function openSse(url: string, init: RequestInit): Promise<SseReader> {
  const abort = new AbortController();
  const response = await fetch(url, { ...init, signal: abort.signal });
  const messages: unknown[] = [];
  const waiters: (() => void)[] = [];
  const wake = (): void => void waiters.splice(0).forEach((resolve) => resolve());
  let buffer = '';
  let done = false;
  const ended = (async () => {
    if (!response.body) return;
    // A POST may be answered with plain JSON after all (no related message came first).
    if (response.headers.get('content-type')?.startsWith('application/json')) {
      messages.push(JSON.parse(await response.text()) as unknown);
      done = true;
      wake();
      return;
    }
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk, { stream: true });
        const cut = buffer.lastIndexOf('\n\n');
        if (cut < 0) continue;
        messages.push(...sseMessages(buffer.slice(0, cut + 2)));
        buffer = buffer.slice(cut + 2);
        wake();
      }
    } catch {
      // closed by us
    } finally {
      done = true;
      wake();
    }
  })();
  return {
    status: response.status,
    ended,
    async next(ms = 5000) {
      const deadline = Date.now() + ms;
      while (messages.length === 0 && !done && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, Math.max(1, deadline - Date.now()));
        });
      }
      return messages.shift();
    },
    close: () => abort.abort(),
  };
}

/** The text of a tool call's first content item, whether the answer came as JSON or as SSE. */
export function toolText(answer: RawAnswer): string {
  const message = (answer.json ?? sseMessages(answer.text).find((entry) => 'result' in (entry as object))) as {
    result: { content: { text: string }[] };
  };
  return message.result.content[0]!.text;
}
