import { defineConfig } from 'vitest/config'

// Tests run against TypeScript sources through the "source" export condition;
// processes spawned by tests (the CLI) run the built JavaScript.
// CI sets MERIDIAN_TEST_JSON to a path to also get vitest's JSON results,
// from which .ci/run prints its closing "N passed, N failed" line.
const jsonReport = process.env.MERIDIAN_TEST_JSON

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: jsonReport ? ['default', 'json'] : ['default'],
    outputFile: jsonReport ? { json: jsonReport } : undefined,
  },
})
