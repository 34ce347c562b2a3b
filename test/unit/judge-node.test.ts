import { describe, expect, it } from "vitest";
import { judgeNode } from "../../src/cli/judge-node.ts";
import type { ServerFacts } from "../../src/cli/probe-server.ts";
import type { ProbeSample } from "../../src/monitor/node-probe.ts";

function facts(sample: Partial<ProbeSample>, systemIdentifier: string | undefined = "7001"): ServerFacts {
  return {
    sample: {
      inRecovery: false,
      walLsn: undefined,
      receiveLsn: undefined,
      replayLsn: undefined,
      replayDelayMs: undefined,
      server: "127.0.0.1 5432 t0",
      ...sample,
    },
    serverVersion: "18.1",
    maxConnections: 100,
    superuserReserved: 3,
    connections: 4,
    systemIdentifier,
    latencyMs: 0.2,
  };
}

const primary = facts({ walLsn: 0x2000n, server: "127.0.0.1 5432 t0" });
const standby = (sample: Partial<ProbeSample> = {}, id?: string) =>
  facts({ inRecovery: true, replayLsn: 0x2000n, receiveLsn: 0x2000n, server: "127.0.0.1 5433 t1", ...sample }, id);
const replica = { name: "replica-0", role: "replica" as const, reachesPrimary: false };

describe("judgeNode: doctor's verdict on one node, by the replica monitor's rules", () => {
  it.each([
    ["a standby of this primary", standby(), primary, "ok", []],
    [
      "the primary under another name",
      facts({ server: "127.0.0.1 5432 t0" }),
      primary,
      "mismatch",
      [/reaches the primary's own server/],
    ],
    [
      "a standby promoted beside the primary",
      facts({ server: "127.0.0.1 5433 t1" }),
      primary,
      "mismatch",
      [/shares its system identifier: a standby promoted beside it \(split brain\)/],
    ],
    [
      "another cluster's primary",
      facts({ server: "127.0.0.1 5440 t9" }, "9999"),
      primary,
      "mismatch",
      [/names another primary/],
    ],
    [
      "writable while the primary is in recovery",
      facts({ server: "127.0.0.1 5433 t1" }),
      standby({ server: "127.0.0.1 5432 t0" }),
      "mismatch",
      [/a promotion under way/],
    ],
    ["another cluster's standby", standby({}, "9999"), primary, "ok", [/belongs to another cluster than the primary/]],
    ["a standby whose system identifier is unreadable", standby({}, undefined), primary, "ok", []],
  ] as const)("%s", (_name, node, primaryFacts, roleCheck, problems) => {
    const verdict = judgeNode(replica, node, primaryFacts, Number.POSITIVE_INFINITY);
    expect(verdict.roleCheck).toBe(roleCheck);
    expect(verdict.problems).toHaveLength(problems.length);
    for (const [index, pattern] of problems.entries()) expect(verdict.problems[index]).toMatch(pattern);
  });

  it("a replica URL that reaches the primary's own host is a writer, as at run time: no problem", () => {
    const verdict = judgeNode({ ...replica, reachesPrimary: true }, primary, primary, 0);
    expect(verdict).toMatchObject({ roleCheck: "ok", problems: [] });
  });

  it("a primary in recovery is a mismatch", () => {
    const verdict = judgeNode({ name: "primary", role: "primary", reachesPrimary: true }, standby(), undefined, 0);
    expect(verdict.roleCheck).toBe("mismatch");
    expect(verdict.problems[0]).toMatch(/^primary: is in recovery/);
  });

  it("lag: bytes behind the primary; time only while received WAL waits for replay (an idle primary is no lag)", () => {
    const waiting = judgeNode(
      replica,
      standby({ replayLsn: 0x1000n, receiveLsn: 0x2000n, replayDelayMs: 4_000 }),
      primary,
      1_000,
    );
    expect(waiting.lag).toEqual({ lagBytes: 0x1000, lagMs: 4_000 });
    expect(waiting.problems).toEqual(["replica-0: replays 4000 ms behind, more than 1000 ms"]);

    // Caught up with what it received; the last replayed commit is an hour old (an idle primary).
    const idle = judgeNode(replica, standby({ replayDelayMs: 3_600_000 }), primary, 1_000);
    expect(idle.lag).toEqual({ lagBytes: 0, lagMs: 0 });
    expect(idle.problems).toEqual([]);

    // The primary did not answer: no bytes, the time from the standby alone.
    const alone = judgeNode(
      replica,
      standby({ replayLsn: 0x1000n, receiveLsn: 0x2000n, replayDelayMs: 50 }),
      undefined,
      1_000,
    );
    expect(alone.lag).toEqual({ lagBytes: undefined, lagMs: 50 });
  });
});
