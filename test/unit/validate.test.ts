import { describe, expect, it } from "vitest";
import {
  closestKey,
  isPlainObject,
  MAX_TIMER_MS,
  readBoolean,
  readGroup,
  readNumber,
  readOneOf,
  show,
  timerRule,
  withDefaults,
} from "../../src/config/validate.ts";
import { configRefusal } from "./config-refusal.ts";

describe("readGroup", () => {
  const known = ["timeoutMs", "readiness"];

  it("reads undefined as {}, false as false where the group can be turned off, and a plain object as itself", () => {
    expect(readGroup("health", undefined, known)).toEqual({});
    expect(readGroup("shutdown", false, ["signals"], { off: true })).toBe(false);
    const given = { timeoutMs: 5 };
    expect(readGroup("health", given, known)).toBe(given);
    expect(readGroup("health", Object.create(null), known)).toEqual({});
  });

  it.each([
    [false, "must be an options object { timeoutMs, readiness }, got false"],
    [true, "got true"],
    [null, "got null"],
    [[], "got an array"],
    [new Map(), "got an instance of Map"],
    ["5s", 'got "5s"'],
  ])("refuses %o as a group that cannot be turned off", (value, message) => {
    const error = configRefusal(() => readGroup("health", value, known));
    expect(error.setting).toBe("health");
    expect(error.message).toContain(message);
  });

  it("names an unknown key with its path, the known keys and the likely one", () => {
    expect(configRefusal(() => readGroup("health", { readyness: "any" }, known))).toEqual({
      setting: "health.readyness",
      message:
        'prisma-split: health.readyness: is not an option; known: timeoutMs, readiness; did you mean "readiness"?',
    });
    const far = configRefusal(() => readGroup("health", { interval: 5 }, known));
    expect(far.message).toMatch(/is not an option; known: timeoutMs, readiness$/);
  });

  it("refuses a recognised key with its own reason", () => {
    const error = configRefusal(() =>
      readGroup("breaker", { capacity: 1 }, ["timeout"], { off: true, refused: { capacity: "use `bulkhead`" } }),
    );
    expect(error).toEqual({ setting: "breaker.capacity", message: "prisma-split: breaker.capacity: use `bulkhead`" });
  });
});

describe("closestKey", () => {
  const known = ["PrismaClient", "primaryUrl", "replicaUrls", "replicas", "retries", "budget"];
  it.each([
    ["replica", "replicas"], // a letter missing (singular)
    ["replicaUrl", "replicaUrls"],
    ["primaryURL", "primaryUrl"], // case
    ["prismaClient", "PrismaClient"],
    ["budjet", "budget"], // a letter changed
    ["reties", "retries"], // a letter dropped
    ["retrries", "retries"], // a letter added
    ["rteries", "retries"], // two swapped
    ["retry", "retries"], // a plural ending
    ["budgets", "budget"],
  ])("%s → %s", (key, expected) => {
    expect(closestKey(key, known)).toBe(expected);
  });

  it("suggests nothing two edits away", () => {
    expect(closestKey("replicaz_", known)).toBeUndefined();
    expect(closestKey("timeout", known)).toBeUndefined();
  });
});

describe("readNumber", () => {
  it("accepts a value within the bounds, and false where the setting can be turned off", () => {
    expect(readNumber("x", 0, { min: 0 })).toBe(0);
    expect(readNumber("x", 100, { above: 0, max: 100 })).toBe(100);
    expect(readNumber("x", false, { min: 1, off: true })).toBe(false);
    expect(readNumber("x", MAX_TIMER_MS, timerRule())).toBe(MAX_TIMER_MS);
  });

  it.each([
    [-1, { min: 0 }, "must be a number ≥ 0, got -1"],
    [0, { above: 0 }, "must be a number > 0, got 0"],
    [150, { above: 0, max: 100 }, "must be a number > 0 and ≤ 100, got 150"],
    [5, { min: 0, max: 2, integer: true }, "must be an integer from 0 to 2, got 5"],
    [1.5, { min: 1, integer: true, unit: "processes" }, "must be a whole number of processes ≥ 1, got 1.5"],
    [2 ** 53, { min: 0, integer: true }, "must be an integer ≥ 0, got 9007199254740992"],
    [Number.NaN, { min: 0 }, "must be a number ≥ 0, got NaN"],
    [Number.POSITIVE_INFINITY, { min: 0 }, "must be a number ≥ 0, got Infinity"],
    ["10", { min: 0 }, 'must be a number ≥ 0, got "10"'],
    [false, { min: 0 }, "must be a number ≥ 0, got false"],
    [null, { min: 1, off: true }, "must be a number ≥ 1, or false to turn it off; got null"],
    [-5, timerRule(), "must be a number of milliseconds ≥ 0, got -5"],
    [
      MAX_TIMER_MS + 1,
      timerRule(),
      `must be at most ${MAX_TIMER_MS} milliseconds (about 24.8 days), got ${MAX_TIMER_MS + 1}`,
    ],
  ] as const)("refuses %s under %o", (value, rule, message) => {
    const error = configRefusal(() => readNumber("setting", value, rule));
    expect(error.setting).toBe("setting");
    expect(error.message).toBe(`prisma-split: setting: ${message}`);
  });
});

describe("readBoolean and readOneOf", () => {
  it("accept their values and refuse others, naming the setting", () => {
    expect(readBoolean("replicas.strict", false)).toBe(false);
    expect(configRefusal(() => readBoolean("replicas.strict", "yes")).message).toBe(
      'prisma-split: replicas.strict: must be true or false, got "yes"',
    );
    expect(readOneOf("health.readiness", "primary", ["any", "primary"])).toBe("primary");
    expect(configRefusal(() => readOneOf("health.readiness", "all", ["any", "primary"])).message).toBe(
      'prisma-split: health.readiness: must be one of "any", "primary", got "all"',
    );
  });
});

describe("show", () => {
  it.each([
    [5, "5"],
    [Number.NaN, "NaN"],
    [true, "true"],
    [undefined, "undefined"],
    [null, "null"],
    [10n, "10n"],
    ["text", '"text"'],
    ["postgresql://app:s3cret@db/app", '"postgresql://app:***@db/app"'],
    ["host=db password=s3cret", '"host=db password=***"'],
    ["x".repeat(100), `"${"x".repeat(80)}…"`],
    [{ password: "s3cret" }, "an object"],
    [["s3cret"], "an array"],
    [() => "s3cret", "a function"],
    [Symbol("s3cret"), "a symbol"],
    [new Date(0), "an instance of Date"],
  ])("%o → %s", (value, shown) => {
    expect(show(value)).toBe(shown);
  });
});

describe("isPlainObject and withDefaults", () => {
  it("takes object literals and null-prototype objects only", () => {
    expect([{}, Object.create(null), { a: 1 }].every(isPlainObject)).toBe(true);
    expect([[], new Map(), new Date(), null, "x", () => {}, new (class Options {})()].some(isPlainObject)).toBe(false);
  });

  it("keeps a default where the key is given as undefined", () => {
    expect(withDefaults({ a: 1, b: 2 }, { a: undefined, b: 3 })).toEqual({ a: 1, b: 3 });
  });
});
