import { defineConfig } from "vitest/config";

/**
 * `npm run test:ha`: only test/ha/, the chaos suite behind a real Patroni + etcd + HAProxy stack
 * (one stack, one worker). The global setup sweeps stacks a killed earlier run left behind.
 */
export default defineConfig({
  test: {
    include: ["test/ha/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    pool: "forks",
    maxWorkers: 1,
    globalSetup: ["test/cluster/global-setup.ts"],
  },
});
