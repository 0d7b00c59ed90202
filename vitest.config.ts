import { configDefaults, defineConfig } from 'vitest/config';

/** Files that count the process's own timers and sockets: a file before them in a shared worker would show in the count. */
const ALONE = ['test/leaks.test.ts', 'test/client-property.test.ts', 'test/session-manager.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real sockets and real processes. Many files spend much of their time waiting on a child
    // or a timer rather than computing, so four files at once on a 2-core machine finish no
    // later than three (paired: bench/RESULTS.md, "The suite's time") and still pass under a
    // busy machine (the suite is run with a CPU burner beside it before every stop).
    maxWorkers: 4,
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...ALONE],
          // Files share a worker's module graph instead of loading it afresh per file: the
          // suite is CPU-bound, and re-importing the SDK, undici and our sources for each of
          // 60-odd files was about a sixth of its CPU (bench/RESULTS.md, "The suite's time").
          // What a file starts it stops in its own afterAll/afterEach.
          isolate: false,
        },
      },
      { extends: true, test: { name: 'alone', include: ALONE } },
    ],
  },
});
