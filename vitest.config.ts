import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real sockets and real processes. Most files spend their time waiting on a child or a
    // timer rather than computing, so three files at once on a 2-core machine finish sooner
    // than two (5.0 min against 6.3 min for the suite, 2026-12-07) and still pass under a
    // busy machine (the suite is run with a CPU burner beside it before every stop).
    maxWorkers: 3,
  },
});
