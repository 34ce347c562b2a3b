import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The Patroni + etcd + HAProxy suite runs apart: `npm run test:ha` (vitest.ha.config.ts).
    exclude: [...configDefaults.exclude, "test/ha/**"],
    // Integration files each start their own primary + replicas: give them time on 2 cores.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    globalSetup: ["test/cluster/global-setup.ts"],
  },
});
