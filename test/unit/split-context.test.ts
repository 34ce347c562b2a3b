import { describe, expect, it } from "vitest";
import { SplitContext } from "../../src/client/split-context.ts";
import type { DbNode } from "../../src/nodes/db-node.ts";
import { waitUnlessAborted } from "../../src/resilience/wait.ts";
import { Router } from "../../src/routing/router.ts";
import { roundRobin } from "../../src/routing/selectors/round-robin.ts";

describe("SplitContext", () => {
  it("lets any number of retry waits listen to its closing signal without Node's leak warning", async () => {
    const primary = {
      name: "primary",
      role: "primary",
      index: -1,
      outOfRotation: new Set(),
      settings: { identity: "127.0.0.1:5432/app?app", poolMax: 5 },
    } as unknown as DbNode;
    const context = new SplitContext(new Router(primary, [], roundRobin(), true), new Map());
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      // 16 callers each waiting out a retry back-off at once, as when a replica dies under load.
      const waits = Array.from({ length: 16 }, () => waitUnlessAborted(20, context.closingSignal));
      expect(await Promise.all(waits)).toEqual(Array(16).fill(true));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
