import { defineConfig } from 'vitest/config';

// forks, not threads: the Temporal native module breaks worker threads (sdk-typescript#876).
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 240_000,
  },
});
