/** The console's entry point (bundled by console/build.mjs). */
import { render } from 'preact';
import { App } from './app.js';

render(<App />, document.getElementById('app')!);
