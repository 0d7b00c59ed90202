/**
 * Debian's chromium, driven by playwright-core (no browser download). CI installs it; its
 * absence fails the suite, it never skips it.
 */
import { execFileSync } from 'node:child_process';
import { type Browser, chromium } from 'playwright-core';

export function chromiumPath(): string {
  return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
}
