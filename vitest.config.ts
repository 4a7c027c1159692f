import { defineConfig } from 'vitest/config';

// Two projects: `unit` (beside the code, no external servers) and `integration` (test/, real servers
// and the simulator over real HTTP). `npm test` runs both; CI also runs `unit` on the current LTS.
export default defineConfig({
  test: {
    setupFiles: ['./vitest.setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'src/**/*.test.ts',
            'sources/**/*.test.ts',
            'processors/**/*.test.ts',
            'sinks/**/*.test.ts',
            'examples/**/*.test.ts',
            'lint/**/*.test.js',
          ],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
