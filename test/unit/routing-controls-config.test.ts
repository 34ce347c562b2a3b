import { describe, expect, it } from "vitest";
import type { CreateDbOptions } from "../../src/config/options.ts";
import { resolveConfig } from "../../src/config/resolve-config.ts";
import { readReplicaReadOptions } from "../../src/routing/replica-read-options.ts";
import { configRefusal } from "./config-refusal.ts";

class FakeClientClass {}
const PrismaClient = FakeClientClass as unknown as CreateDbOptions<unknown>["PrismaClient"];
const primaryUrl = "postgresql://app:hunter2@primary.db/app";
const replicaUrls = ["postgresql://app:hunter2@r1.db/app", "postgresql://app:hunter2@r2.db/app"];

function resolve(options: Partial<CreateDbOptions<unknown>>, env: NodeJS.ProcessEnv = {}) {
  return resolveConfig({ PrismaClient, primaryUrl, ...options } as CreateDbOptions<unknown>, env);
}

function refusal(options: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  return configRefusal(() => resolve(options as Partial<CreateDbOptions<unknown>>, env));
}

const zonesOf = (config: ReturnType<typeof resolve>) => config.nodes.replicas.map((replica) => replica.zone);

describe("reads", () => {
  it('is "replica" by default and takes "primary"', () => {
    expect(resolve({}).reads).toBe("replica");
    expect(resolve({ reads: "primary" }).reads).toBe("primary");
  });

  it("refuses anything else, naming the choices", () => {
    expect(refusal({ reads: "replicas" })).toEqual({
      setting: "reads",
      message: 'prisma-split: reads: must be one of "replica", "primary", got "replicas"',
    });
  });
});

describe("replica zones", () => {
  it("come from replicas.zones, as an array in the replicas' order or a function of the replica", () => {
    expect(zonesOf(resolve({ replicaUrls, replicas: { zones: ["eu-west-1a", undefined] } }))).toEqual([
      "eu-west-1a",
      undefined,
    ]);
    const byName = resolve({ replicaUrls, replicas: { zones: ({ name }) => `zone-of-${name}` } });
    expect(zonesOf(byName)).toEqual(["zone-of-replica-0", "zone-of-replica-1"]);
  });

  it("default to DATABASE_REPLICA_ZONES, an empty entry leaving a replica without one", () => {
    const env = { DATABASE_REPLICA_URLS: replicaUrls.join(","), DATABASE_REPLICA_ZONES: " , us-east-1b" };
    expect(zonesOf(resolve({}, env))).toEqual([undefined, "us-east-1b"]);
  });

  it("come from a URL's ?zone=, which the driver's URL no longer carries", () => {
    const [first, second] = replicaUrls as [string, string];
    const config = resolve({ replicaUrls: [`${first}?zone=dc1/rack2&sslmode=disable`, second] });
    expect(zonesOf(config)).toEqual(["dc1/rack2", undefined]);
    const driverUrl = new URL(config.nodes.replicas[0]?.settings.connectionString ?? "");
    expect(driverUrl.searchParams.has("zone")).toBe(false);
    expect(driverUrl.searchParams.get("sslmode")).toBe("disable");
  });

  it("refuses a list of the wrong length, two different zones for a replica, and a bad name", () => {
    expect(refusal({ replicaUrls, replicas: { zones: ["a"] } })).toEqual({
      setting: "replicas.zones",
      message:
        "prisma-split: replicas.zones: lists 1 zone(s) for 2 replica(s): give one per replica (one per host of a " +
        "multi-host URL), in their order; an empty entry leaves a replica without a zone",
    });
    expect(refusal({}, { DATABASE_REPLICA_URLS: `${replicaUrls[0]}?zone=a`, DATABASE_REPLICA_ZONES: "b" })).toEqual({
      setting: "DATABASE_REPLICA_ZONES[0]",
      message:
        'prisma-split: DATABASE_REPLICA_ZONES[0]: says zone "b" and the URL of replica-0 says ?zone=a: give its zone in one place',
    });
    expect(refusal({ replicaUrls, replicas: { zones: ["a", "no spaces"] } }).setting).toBe("replicas.zones[1]");
    expect(refusal({ replicaUrls: [`${replicaUrls[0]}?zone=a%20b`] })).toEqual({
      setting: "replicaUrls[0]?zone",
      message:
        'prisma-split: replicaUrls[0]?zone: must be a zone name (letters, digits, . _ : / -), got "a b" in ' +
        "postgresql://app:***@r1.db/app?zone=a%20b",
    });
    expect(refusal({ replicas: { zones: "a,b" } }).setting).toBe("replicas.zones");
  });

  it("preferZone is a zone name", () => {
    expect(resolve({ replicas: { preferZone: "eu-west-1a" } }).preferZone).toBe("eu-west-1a");
    expect(resolve({}).preferZone).toBeUndefined();
    expect(refusal({ replicas: { preferZone: "" } }).setting).toBe("replicas.preferZone");
    expect(refusal({ replicas: { preferZone: 3 } }).message).toMatch(/must be a zone name .* got 3$/);
  });
});

describe("per-call replica options", () => {
  it("take maxLagMs, a number of ms ≥ 0", () => {
    expect(readReplicaReadOptions("$replica(options)", { maxLagMs: 0 })).toEqual({ maxLagMs: 0 });
    expect(readReplicaReadOptions("$replica(options)", {})).toEqual({});
    expect(configRefusal(() => readReplicaReadOptions("$replica(options)", { maxLagMs: Number.NaN }))).toEqual({
      setting: "$replica(options).maxLagMs",
      message: "prisma-split: $replica(options).maxLagMs: must be a number of milliseconds ≥ 0, got NaN",
    });
    expect(configRefusal(() => readReplicaReadOptions("$replica(options)", 500)).message).toMatch(
      /must be an options object \{ maxLagMs \}, got 500/,
    );
  });
});
