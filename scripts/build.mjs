// Builds dist/ (the compiled sources and the console) once: `npm start` and `npm test` call it
// with --if-stale and it does nothing while dist/ is newer than every source, so neither
// rebuilds what `npm ci` (the "prepare" script) just built. Without --if-stale it always
// builds, from a clean dist/ (so a removed source leaves no stale file in the package).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist', '.built');
const INPUTS = ['src', 'console', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

/** The newest modification time under `path`: files and directories (a removed file changes its directory's). */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const ifStale = process.argv.includes('--if-stale');
if (ifStale && existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(...INPUTS.map((input) => newest(join(root, input))))) {
  console.log('sessiongate: dist/ is up to date');
  process.exit(0);
}
rmSync(join(root, 'dist'), { recursive: true, force: true });
const run = (args) => execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
run([join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);
run([join(root, 'console', 'build.mjs')]);
writeFileSync(stamp, `${new Date().toISOString()}\n`);
