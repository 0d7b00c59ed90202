/** Which answers start a recovery: 404, or a 400 that names the session; never another 400. */
import { describe, expect, it } from 'vitest';
import { saysSessionLost } from '../src/client/lost-session.js';

const body = (message: string, code = -32000): string => JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } });

describe('saysSessionLost', () => {
  it('404 always; 400 when the error names the session as unknown', () => {
    expect(saysSessionLost(404, '')).toBe(true);
    expect(saysSessionLost(400, body('Bad Request: No valid session ID provided'))).toBe(true);
    expect(saysSessionLost(400, body('Session not found'))).toBe(true);
    expect(saysSessionLost(400, body('Invalid or expired session'))).toBe(true);
    expect(saysSessionLost(400, body('anything', -32001))).toBe(true);
  });

  it('a genuinely bad request is not a lost session', () => {
    expect(saysSessionLost(400, body('Bad Request: Server already initialized'))).toBe(false);
    expect(saysSessionLost(400, body('Session is already initialized'))).toBe(false);
    expect(saysSessionLost(400, body('Parse error'))).toBe(false);
    expect(saysSessionLost(400, body('Bad Request: Mcp-Session-Id header is required'))).toBe(false);
    expect(saysSessionLost(400, 'not json')).toBe(false);
    expect(saysSessionLost(400, 'null')).toBe(false);
    expect(saysSessionLost(500, body('Session not found'))).toBe(false);
  });
});
