import { describe, expect, it } from "vitest";
import { parseConnectionUrl } from "../../src/config/connection-url.ts";
import { DbNode } from "../../src/nodes/db-node.ts";

class NoClient {
  $connect = async () => {};
  $disconnect = async () => {};
}

function node(timesQueries: boolean | undefined): DbNode {
  return new DbNode({
    name: "replica-0",
    role: "replica",
    index: 0,
    settings: parseConnectionUrl("postgresql://127.0.0.1:9/app", "replica-0"),
    PrismaClient: NoClient as never,
    clientOptions: {},
    ...(timesQueries === undefined ? {} : { timesQueries }),
  });
}

describe("DbNode query timing", () => {
  it("by default, a failed call's whole time makes latencyMs no lower; a result leaves it to the pool's statement times", async () => {
    const timed = node(undefined);
    // No statement ran on a connection (no pool here): nothing to say about the server yet.
    await timed.run({ startOn: () => Promise.resolve("rows") });
    expect(timed.latencyMs).toBeUndefined();
    await expect(timed.run({ startOn: () => Promise.reject(new Error("refused")) })).rejects.toThrow("refused");
    expect(timed.latencyMs).toBeTypeOf("number");
    expect(timed.inFlight).toBe(0);
  });

  it("with timesQueries off, runs and counts the query but keeps no latency", async () => {
    const untimed = node(false);
    const before = untimed.lastAnsweredAt;
    await expect(untimed.run({ startOn: () => Promise.resolve("rows") })).resolves.toBe("rows");
    await expect(untimed.run({ startOn: () => Promise.reject(new Error("no")) })).rejects.toThrow("no");
    expect(untimed.latencyMs).toBeUndefined();
    expect(untimed.inFlight).toBe(0);
    expect(untimed.lastAnsweredAt).toBeGreaterThanOrEqual(before);
  });
});
