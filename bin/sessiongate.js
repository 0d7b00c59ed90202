#!/usr/bin/env node
// The CLI runs from the compiled sources; `npm ci` builds them (the "prepare" script).
import '../dist/cli/main.js';
