// Builds the operator console into dist/console: one bundled script, one stylesheet (ours and
// uPlot's), the page. Run by `npm run build`; the files ship in the npm package, so nothing is
// fetched at run time (docs/CONSOLE.md).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const out = here('../dist/console/');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [here('src/main.tsx')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outfile: `${out}app.js`,
  logLevel: 'warning',
});
const uplotCss = readFileSync(here('../node_modules/uplot/dist/uPlot.min.css'), 'utf8');
writeFileSync(`${out}app.css`, `${uplotCss}\n${readFileSync(here('app.css'), 'utf8')}`);
copyFileSync(here('index.html'), `${out}index.html`);
