/**
 * The operator console in a real browser: Debian's Chromium driven by playwright-core (no
 * browser download), against a real gateway process with sessions opened by the official SDK
 * client. A wrong token is refused; sessions appear and go without a reload; their calls show in
 * the detail and the live tail; Terminate (confirmed) ends one, whose SessionClientTransport
 * recovers by itself while another session is untouched; the API refuses requests without the
 * cookie or the CSRF token; axe-core finds no serious accessibility violation. Screenshots of
 * every view go to test-results/console/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionClientTransport } from '../src/client/index.js';
import { sessionTag } from '../src/session/id.js';
import { chromiumPath, seriousViolations } from './helpers/browser.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';

const ADMIN = 'console-test-admin-token-0123456789';
const SHOTS = 'test-results/console';

const dir = mkdtempSync(join(tmpdir(), 'sg-console-'));
const audit = join(dir, 'audit.jsonl');
const policy = join(dir, 'policy.json');
writeFileSync(
  policy,
  JSON.stringify({
    default: 'allow',
    rules: [
      { id: 'whoami-op', effect: 'approve', approver: 'operator', tools: ['whoami'] },
      // A long argument: shown whole to the operator, folded (issue 34).
      {
        id: 'long-echo-op',
        effect: 'approve',
        approver: 'operator',
        tools: ['echo'],
        arguments: { type: 'object', properties: { text: { type: 'string', minLength: 500 } }, required: ['text'] },
      },
    ],
  }),
);
let gateway: InProcessGateway;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let base: string;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  gateway = await startGateway([
    '--port',
    '0',
    '--store',
    'memory',
    '--demo-upstream',
    '--audit',
    audit,
    '--policy',
    policy,
    '--admin-token',
    ADMIN,
  ]);
  base = gateway.url.replace(/\/mcp$/, '');
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await gateway?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const bystanderCall = (client: Client) => client.callTool({ name: 'echo', arguments: { text: 'alive' } });

const row = (tag: string) => page.locator(`tr[data-session="${tag}"]`);

describe('the operator console', () => {
  it('refuses a wrong token, then signs in', async () => {
    await page.goto(`${base}/console/`);
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toBe('wrong admin token');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/sign-in.png` });
    await page.getByLabel('Admin token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /Sessions \(/ }).waitFor({ timeout: 10_000 });
    const cookie = (await context.cookies()).find((c) => c.name === 'sg_console')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    expect(cookie.value).not.toContain(ADMIN);
  });

  it('shows sessions as they open and close, their calls in the detail and the tail; Terminate ends one, whose client recovers', async () => {
    const recovering = new Client({ name: 'console-recovering', version: '2.1.0' });
    const transport = new SessionClientTransport(gateway.url);
    await recovering.connect(transport);
    const openedAt = Date.now();
    const first = sessionTag(transport.sessionId!);
    await row(first).waitFor({ timeout: 10_000 });
    expect(Date.now() - openedAt).toBeLessThan(2000);

    const bystander = new Client({ name: 'console-bystander', version: '1.0.0' });
    const official = new StreamableHTTPClientTransport(new URL(gateway.url));
    await bystander.connect(official);
    const second = sessionTag(official.sessionId!);
    await row(second).waitFor({ timeout: 10_000 });
    await recovering.callTool({ name: 'echo', arguments: { text: 'seen by the console' } });
    await expect.poll(() => row(first).locator('td').nth(8).textContent(), { timeout: 10_000 }).toBe('2');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/sessions.png` });

    // A call held for an operator: approved from the session's page.
    const held = recovering.callTool({ name: 'whoami', arguments: {} });
    await row(first).getByRole('link').click();
    await page.getByRole('heading', { name: `Session ${first}` }).waitFor();
    await page.getByRole('cell', { name: 'echo' }).first().waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Approve' }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: `${SHOTS}/session-approval.png` });
    await page.getByRole('button', { name: 'Approve' }).click();
    expect((await held).isError).toBeFalsy();
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/session-detail.png` });

    // Long arguments are never cut: folded, with their length, and whole a click away.
    const long = `${'routine cleanup '.repeat(120)}THE END`;
    const heldLong = recovering.callTool({ name: 'echo', arguments: { text: long } });
    const folded = page.getByText(`(${JSON.stringify(long).length} characters: show all)`);
    await folded.waitFor({ timeout: 10_000 });
    await folded.click();
    await page.getByText('THE END"', { exact: false }).first().waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/session-approval-long.png` });
    await page.getByRole('button', { name: 'Approve echo' }).click();
    expect(await heldLong).toMatchObject({ content: [{ text: long }] });

    await page.getByRole('link', { name: 'Live tail' }).click();
    await page.getByRole('heading', { name: 'Live tail' }).waitFor();
    await page.getByRole('cell', { name: 'echo' }).first().waitFor({ timeout: 10_000 });
    await page.getByLabel('Tool', { exact: true }).fill('echo');
    // Both echo calls (the one seen at once, the long one approved), whenever their batches arrive; no other call.
    await expect.poll(() => page.locator('tbody tr').count(), { timeout: 10_000 }).toBe(2);
    expect((await page.locator('tbody tr').allTextContents()).every((row) => row.includes('echo'))).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/live-tail.png` });

    await page.getByRole('link', { name: 'Charts' }).click();
    await page.getByRole('heading', { name: 'The last hour' }).waitFor();
    // A point every 10 s: the first after the gateway's first 10 s, with these calls in it.
    await page.getByText(/\(([1-9]\d*) so far\)/).waitFor({ timeout: 25_000 });
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/charts.png` });

    await page.getByRole('link', { name: 'Sessions' }).click();
    await row(first)
      .getByRole('button', { name: `Terminate session ${first}` })
      .click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await page.screenshot({ path: `${SHOTS}/terminate-confirm.png` });
    await dialog.getByRole('button', { name: 'Terminate' }).click();
    await row(first).waitFor({ state: 'detached', timeout: 10_000 });
    // The client's next call meets 404; SessionClientTransport opens a new session by itself.
    const answer = await recovering.callTool({ name: 'echo', arguments: { text: 'after' } });
    expect((answer as { content: { text: string }[] }).content[0]!.text).toBe('after');
    expect(sessionTag(transport.sessionId!)).not.toBe(first);
    // The other session is untouched.
    expect((await bystander.callTool({ name: 'echo', arguments: { text: 'still here' } })).isError).toBeFalsy();
    expect(await row(second).count()).toBe(1);

    const closedAt = Date.now();
    await official.terminateSession();
    await row(second).waitFor({ state: 'detached', timeout: 10_000 });
    expect(Date.now() - closedAt).toBeLessThan(2000);
    await bystander.close();
    await recovering.close();
  });

  it('shows an operator what waits for them: a count in the header, the session row marked, each call with who, what, every argument, age and time left; denied from there', async () => {
    const client = new Client({ name: 'console-waiting', version: '3.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(gateway.url));
    await client.connect(transport);
    const tag = sessionTag(transport.sessionId!);
    const held = client.callTool({ name: 'whoami', arguments: {} }).then(
      () => 'answered',
      (error: { code: number }) => error.code,
    );
    await page.getByRole('link', { name: 'Sessions' }).click();
    const approvalsLink = page.getByRole('link', { name: 'Approvals (1)' });
    await approvalsLink.waitFor({ timeout: 10_000 });
    // The held call has not finished, so no "last call" names it: the row says it waits.
    await row(tag).getByText('waiting for approval: tools/call whoami').waitFor({ timeout: 10_000 });
    const identity = await row(tag).locator('td').nth(2).textContent();
    await page.screenshot({ path: `${SHOTS}/sessions-held.png` });

    await approvalsLink.click();
    await page.getByRole('heading', { name: 'Waiting for approval (1)' }).waitFor();
    const card = page.locator('li[data-approval]');
    const facts = async (): Promise<Record<string, string>> => {
      const names = await card.locator('dl.facts dt').allTextContents();
      const values = await card.locator('dl.facts dd').allTextContents();
      return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
    };
    expect(await facts()).toMatchObject({ Who: identity, Session: tag, Client: 'console-waiting 3.0.0' });
    expect((await facts())['What']).toContain('tools/call whoami (rule whoami-op)');
    expect(await card.getByText('No arguments.').count()).toBe(1);
    // Its age grows and its time left (the 5 min approval timeout) shrinks, live.
    await expect.poll(async () => (await facts())['Waiting'], { timeout: 10_000 }).toMatch(/^([1-9]\d*)s, 4m \d+s left$/);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/approvals.png` });

    await card.getByRole('button', { name: `Deny whoami in session ${tag}` }).click();
    expect(await held).toBe(-31051);
    await page.getByRole('link', { name: 'Approvals (0)' }).waitFor({ timeout: 10_000 });
    await page.getByRole('heading', { name: 'Waiting for approval (0)' }).waitFor();
    await page.getByRole('link', { name: 'Sessions' }).click();
    await client.close();
  });

  it('is readable at a phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('heading', { name: /Sessions \(/ }).waitFor();
    await page.screenshot({ path: `${SHOTS}/sessions-phone.png`, fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('its API refuses a request without the cookie, and a change without the CSRF token', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'sg_console')!;
    const client = new Client({ name: 'console-target', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(gateway.url));
    await client.connect(transport);
    expect((await fetch(`${base}/console/api/sessions`)).status).toBe(401);
    const listed = await fetch(`${base}/console/api/sessions`, { headers: { cookie: `sg_console=${cookie.value}` } });
    expect(listed.status).toBe(200);
    const { sessions } = (await listed.json()) as { sessions: { id: string }[] };
    const target = transport.sessionId!;
    expect(sessions.map((session) => session.id)).toContain(target);
    const unprotected = await fetch(`${base}/console/api/sessions/${encodeURIComponent(target)}`, {
      method: 'DELETE',
      headers: { cookie: `sg_console=${cookie.value}` },
    });
    expect(unprotected.status).toBe(403);
    const forged = await fetch(`${base}/console/api/sessions/${encodeURIComponent(target)}`, {
      method: 'DELETE',
      headers: { cookie: `sg_console=${cookie.value}`, 'x-csrf-token': 'guessed' },
    });
    expect(forged.status).toBe(403);
    expect((await bystanderCall(client)).isError).toBeFalsy(); // refused twice: the session lives
    await client.close();
    const page404 = await fetch(`${base}/console/nothing-here.js`);
    expect(page404.status).toBe(404);
  });

  it('signs out: the cookie no longer opens anything', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'sg_console')!;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect((await fetch(`${base}/console/api/sessions`, { headers: { cookie: `sg_console=${cookie.value}` } })).status).toBe(401);
  });

  it('audits what the operator did, and limits sign-in attempts per address', async () => {
    const attempts: number[] = [];
    for (let i = 0; i < 11; i++) {
      const answer = await fetch(`${base}/console/api/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: `guess-${i}` }),
      });
      attempts.push(answer.status);
    }
    expect(attempts.at(-1)).toBe(429);
    expect(attempts.filter((status) => status === 401).length).toBeGreaterThan(0);
    // A stranger's guesses from the same address (one reverse proxy for all) never lock the operator out.
    const operator = await fetch(`${base}/console/api/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: ADMIN }),
    });
    expect(operator.status).toBe(200);
    const consoleLines = () =>
      readFileSync(audit, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line['event'] === 'console')
        .map((line) => line['action']);
    await expect
      .poll(consoleLines, { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['sign-in-refused', 'sign-in', 'approve', 'terminate', 'sign-out']) as unknown);
    const approved = readFileSync(audit, 'utf8')
      .split('\n')
      .find((line) => line.includes('"whoami-op"'));
    expect(approved).toContain('"approver":"console:');
  });
});
