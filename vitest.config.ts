import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'cli/**/*.test.ts', 'workers/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    // Hang guards, not speed checks: two files run at a time, and a real-model test shares the cores.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two files at a time (Vitest's default is one fewer than the cores: one, here): the corpus file
    // spends much of its ten minutes starting CLI processes and reading models, time the other files use.
    maxWorkers: 2,
  },
});
