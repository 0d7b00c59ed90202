import { defineConfig } from 'vitest/config';

/** `npm run test:soak`: heavy, long tests kept out of the default suite (also run by CI). */
export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
  },
});
