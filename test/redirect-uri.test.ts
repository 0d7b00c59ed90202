/**
 * Which redirect URIs a client may register and when one presented matches (docs/AUTH.md,
 * "Clients"): exact matching, except a loopback's port (RFC 8252 section 7.3), checked against
 * what the clients people use really register.
 */
import { describe, expect, it } from 'vitest';
import { clientRecord } from '../src/gateway/authorization-server/client-metadata.js';
import { redirectUriMatches, redirectUriProblem } from '../src/gateway/authorization-server/redirect-uri.js';

/** Redirect URIs as the clients register them (their trackers and documentation, 2025-2026). */
const REAL_CLIENTS = {
  claude: ['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback'],
  chatgpt: ['https://chatgpt.com/connector_platform_oauth_redirect'],
  vscode: ['https://insiders.vscode.dev/redirect', 'https://vscode.dev/redirect', 'http://127.0.0.1/', 'http://127.0.0.1:33418/'],
  cursor: [
    'cursor://anysphere.cursor-mcp/oauth/callback',
    'https://www.cursor.com/agents/mcp/oauth/callback',
    'http://localhost:8787/callback',
  ],
};

describe('redirect URIs', () => {
  it('what the clients people use register is accepted', () => {
    for (const [client, uris] of Object.entries(REAL_CLIENTS))
      expect(clientRecord(`sgc_${client}`, { redirect_uris: uris, token_endpoint_auth_method: 'none' }, 'dynamic').redirect_uris).toEqual(
        uris,
      );
  });

  it('VS Code on another free port matches its portless loopback registration; nothing else does', () => {
    expect(redirectUriMatches('http://127.0.0.1:59656/', REAL_CLIENTS.vscode)).toBe(true);
    expect(redirectUriMatches('http://localhost:9999/callback', REAL_CLIENTS.cursor)).toBe(true);
    expect(redirectUriMatches('https://vscode.dev/redirect', REAL_CLIENTS.vscode)).toBe(true);
    for (const presented of [
      'https://vscode.dev/redirect/',
      'https://vscode.dev/redirect?x=1',
      'https://vscode.dev:444/redirect',
      'https://VSCODE.dev/redirect',
      'http://127.0.0.1:59656/other',
      'http://127.0.0.2:33418/',
      'https://127.0.0.1:33418/',
      'http://localhost:8787/callback/',
    ])
      expect(redirectUriMatches(presented, [...REAL_CLIENTS.vscode, ...REAL_CLIENTS.cursor]), presented).toBe(false);
  });

  it('http beyond loopback, dangerous schemes, fragments, credentials and relative URIs are refused', () => {
    for (const uri of [
      'http://example.com/cb',
      'http://10.0.0.1/cb',
      'javascript:alert(1)',
      'data:text/html,x',
      'file:///etc/passwd',
      'https://ok.example/cb#fragment',
      'https://user:pw@ok.example/cb',
      '/relative',
      42,
    ])
      expect(redirectUriProblem(uri), String(uri)).toBeDefined();
  });
});
