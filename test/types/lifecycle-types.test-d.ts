// Compiled by `tsc --noEmit` (npm run typecheck): the lifecycle methods survive $extends and views.
import { createDb, type HealthReport, healthHandlers, recommendPoolSize } from "../../src/index.ts";
import { PrismaClient } from "../generated/prisma/client.ts";

const db = createDb({
  PrismaClient,
  primaryUrl: "postgresql://localhost/app",
  shutdown: { signals: ["SIGTERM"], timeoutMs: 5_000 },
  metrics: { prefix: "app_" },
  health: { timeoutMs: 1_000, readiness: "primary" },
  poolCheck: { instances: 4, reserved: 10 },
});

export async function lifecycleTypeChecks(): Promise<void> {
  const report: HealthReport = await db.$health();
  const status: "ok" | "degraded" | "down" = report.status;
  void status;
  const lag: number | undefined = report.replicas[0]?.lagMs;
  void lag;
  const ready: boolean = await db.$extends({}).$ready();
  void ready;
  await db.$primary().$shutdown();
  healthHandlers(db).handle({}, {});
  const limit: number = recommendPoolSize({ maxConnections: 100, instances: 3 }).connectionLimit;
  void limit;
  db.$events.on("shutdown:done", (event) => {
    const drained: boolean = event.drained;
    void drained;
  });
  db.$events.on("pool:oversubscribed", (event) => void event.recommendedConnectionLimit);
  // @ts-expect-error: signals are signal names
  createDb({ PrismaClient, shutdown: { signals: ["TERM"] } });
  // @ts-expect-error: readiness is "any" or "primary"
  createDb({ PrismaClient, health: { readiness: "all" } });
}
