// Shared self-check for the examples: the official SDK client talks to the example's endpoint
// over a real socket, and the example exits non-zero if anything is off.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export async function checkEndpoint(url) {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'example-check', version: '1.0.0' });
  await client.connect(transport);
  const result = await client.callTool({ name: 'echo', arguments: { text: 'it works' } });
  if (result.content?.[0]?.text !== 'it works') throw new Error(`unexpected answer: ${JSON.stringify(result)}`);
  await transport.terminateSession();
  await client.close();
  console.log(`ok: ${url} served a session end to end`);
}
