import { describe, expect, it } from "vitest";
import { useCluster } from "./harness.ts";

const inRecovery = async (node: { query: (sql: string) => Promise<Array<Record<string, unknown>>> }) =>
  (await node.query("SELECT pg_is_in_recovery() AS r"))[0]?.r;

describe("dev cluster: switchover(), failover() and rejoin() move the primary between real servers", () => {
  const { cluster } = useCluster(1);

  it("switchover: the replica takes writes, the old primary streams from it; failover + rejoin do it again", async () => {
    const [first, second] = [cluster().primary, cluster().replicas[0]!];
    await first.query("CREATE TABLE IF NOT EXISTS switchover_probe (n int)");
    await first.query("INSERT INTO switchover_probe VALUES (1)");

    let started = performance.now();
    await cluster().switchover();
    const switchoverMs = performance.now() - started;
    expect(cluster().primary).toBe(second);
    expect(cluster().replicas).toEqual([first]);
    expect([first.role, second.role]).toEqual(["replica", "primary"]);
    expect(await inRecovery(second)).toBe(false);
    expect(await inRecovery(first)).toBe(true);
    await second.query("INSERT INTO switchover_probe VALUES (2)");
    await cluster().waitForReplicas();
    expect(await first.query("SELECT n FROM switchover_probe ORDER BY n")).toEqual([{ n: 1 }, { n: 2 }]);

    started = performance.now();
    await cluster().failover();
    const failoverMs = performance.now() - started;
    expect(cluster().primary).toBe(first);
    expect(first.isRunning() && !second.isRunning()).toBe(true);
    await first.query("INSERT INTO switchover_probe VALUES (3)");
    started = performance.now();
    await cluster().rejoin(second);
    const rejoinMs = performance.now() - started;
    await cluster().waitForReplicas();
    expect(await second.query("SELECT n FROM switchover_probe ORDER BY n")).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    console.log(
      `dev cluster: switchover ${Math.round(switchoverMs)} ms, failover ${Math.round(failoverMs)} ms, rejoin ${Math.round(rejoinMs)} ms`,
    );
  });
});
