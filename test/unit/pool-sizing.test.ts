import { describe, expect, it } from "vitest";
import { defaultReserved, planConnections, recommendPoolSize } from "../../src/lifecycle/pool-sizing.ts";

describe("recommendPoolSize: (max_connections − reserved) / instances", () => {
  it.each([
    // maxConnections, reserved, instances → connectionLimit, budget
    [100, 10, 1, 90, 90],
    [100, 10, 6, 15, 90],
    [100, 10, 7, 12, 90],
    [100, 20, 10, 8, 80],
    [200, 0, 3, 66, 200],
    [500, 50, 50, 9, 450],
  ])(
    "max %i, reserved %i, %i instances → %i per pool (budget %i)",
    (maxConnections, reserved, instances, limit, budget) => {
      const result = recommendPoolSize({ maxConnections, reserved, instances });
      expect(result).toMatchObject({
        connectionLimit: limit,
        budget,
        reserved,
        fits: true,
        limitedBy: "max_connections",
      });
      // The recommendation really fits, and one more per pool would not.
      expect(instances * limit).toBeLessThanOrEqual(budget);
      expect(instances * (limit + 1)).toBeGreaterThan(budget);
    },
  );

  it("keeps 10% free by default, never less than the superuser reserve", () => {
    expect(defaultReserved(100)).toBe(10);
    expect(defaultReserved(25)).toBe(3);
    expect(defaultReserved(25, 5)).toBe(5);
    expect(defaultReserved(101)).toBe(11);
    expect(recommendPoolSize({ maxConnections: 100, instances: 3 })).toMatchObject({
      reserved: 10,
      connectionLimit: 30,
    });
  });

  it("divides among every pool an instance opens to the server", () => {
    expect(
      recommendPoolSize({ maxConnections: 100, reserved: 10, instances: 3, poolsPerInstance: 2 }).connectionLimit,
    ).toBe(15);
  });

  it("caps the total at cores × 2 + spindles when the server's cores are given", () => {
    expect(recommendPoolSize({ maxConnections: 500, reserved: 50, instances: 4, serverCores: 8 })).toMatchObject({
      budget: 17,
      connectionLimit: 4,
      limitedBy: "server_cores",
    });
    expect(recommendPoolSize({ maxConnections: 20, reserved: 2, instances: 1, serverCores: 16 }).limitedBy).toBe(
      "max_connections",
    );
  });

  it("says when even one connection per instance does not fit (PgBouncer territory)", () => {
    expect(recommendPoolSize({ maxConnections: 100, reserved: 10, instances: 91 })).toMatchObject({
      connectionLimit: 1,
      fits: false,
    });
    expect(recommendPoolSize({ maxConnections: 100, reserved: 10, instances: 90 }).fits).toBe(true);
  });

  it.each([
    [{ maxConnections: 0, instances: 1 }, "maxConnections must be a whole number ≥ 1, got 0"],
    [{ maxConnections: 100, instances: 1.5 }, "instances must be a whole number ≥ 1, got 1.5"],
    [{ maxConnections: 100, instances: 2, reserved: -1 }, "reserved must be a whole number ≥ 0, got -1"],
    [{ maxConnections: Number.NaN, instances: 2 }, "maxConnections must be a whole number ≥ 1, got NaN"],
  ])("refuses %o with a RangeError naming the value", (input, message) => {
    expect(() => recommendPoolSize(input)).toThrow(new RangeError(`prisma-split: ${message}`));
  });
});

describe("planConnections: instances × Σ connection_limit against the budget", () => {
  it("fits when the worst case stays within max_connections − reserved", () => {
    expect(planConnections({ maxConnections: 100, instances: 4, connectionLimits: [10, 5] })).toEqual({
      maxConnections: 100,
      reserved: 10,
      budget: 90,
      instances: 4,
      perInstance: 15,
      planned: 60,
      fits: true,
      recommendedConnectionLimit: 11,
    });
  });

  it("does not fit one connection past the budget, and recommends a limit that does", () => {
    const exact = planConnections({ maxConnections: 100, reserved: 10, instances: 9, connectionLimits: [10] });
    expect(exact).toMatchObject({ planned: 90, fits: true });
    const over = planConnections({ maxConnections: 100, reserved: 10, instances: 7, connectionLimits: [13] });
    expect(over).toMatchObject({ planned: 91, fits: false, recommendedConnectionLimit: 12 });
    expect(planConnections({ maxConnections: 100, reserved: 10, instances: 7, connectionLimits: [12] }).fits).toBe(
      true,
    );
  });

  it("takes the server's superuser reserve into the default reserve", () => {
    expect(
      planConnections({ maxConnections: 20, superuserReserved: 5, instances: 1, connectionLimits: [16] }),
    ).toMatchObject({ reserved: 5, budget: 15, fits: false });
  });
});
