import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve-config.ts";
import { isConfigurationError } from "../../src/errors.ts";
import { type ReplicaCandidate, resolveSelector } from "../../src/routing/selectors/index.ts";
import { leastBusy } from "../../src/routing/selectors/least-busy.ts";
import { random } from "../../src/routing/selectors/random.ts";
import { roundRobin } from "../../src/routing/selectors/round-robin.ts";

const replicas = (...inFlight: number[]): ReplicaCandidate[] =>
  inFlight.map((count, index) => ({ name: `replica-${index}`, index, inFlight: count }));

describe("replica selectors", () => {
  it("round-robin takes each candidate in turn", () => {
    const select = roundRobin();
    const candidates = replicas(0, 0, 0);
    expect(Array.from({ length: 7 }, () => select(candidates).index)).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });

  it("random picks by the given source of randomness", () => {
    const values = [0, 0.5, 0.99];
    const select = random(() => values.shift() ?? 0);
    const candidates = replicas(0, 0, 0);
    expect([select(candidates).index, select(candidates).index, select(candidates).index]).toEqual([0, 1, 2]);
  });

  it("least-busy takes the candidate with the fewest in flight, ties in turn", () => {
    const select = leastBusy();
    expect(select(replicas(3, 1, 2)).index).toBe(1);
    const tied = replicas(2, 0, 0);
    const fresh = leastBusy();
    expect([fresh(tied).index, fresh(tied).index, fresh(tied).index]).toEqual([1, 2, 1]);
  });

  it("resolves names and functions, and refuses anything else", () => {
    const own = (candidates: readonly ReplicaCandidate[]) => candidates[0] as ReplicaCandidate;
    expect(resolveSelector(own)).toBe(own);
    for (const name of ["round-robin", "random", "least-busy", "fastest"] as const) {
      expect(typeof resolveSelector(name)).toBe("function");
    }
    for (const bad of ["fastest-ish", "toString", 3, null]) {
      let caught: unknown;
      try {
        resolveConfig({ PrismaClient: class {}, primaryUrl: "postgresql://h/db", replicas: { select: bad as never } });
      } catch (error) {
        caught = error;
      }
      expect(isConfigurationError(caught)).toBe(true);
    }
  });
});
