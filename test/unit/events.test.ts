import { describe, expect, it } from "vitest";
import { SplitEvents } from "../../src/events.ts";

describe("SplitEvents", () => {
  it("a listener that throws is reported as a warning; the other listeners and the emitter go on", async () => {
    const events = new SplitEvents();
    const heard: string[] = [];
    events.on("fallback", () => {
      throw new Error("the app's bug");
    });
    events.once("fallback", (event) => heard.push(`once ${event.reason}`));
    events.on("fallback", (event) => heard.push(`on ${event.reason}`));
    const warned = new Promise<Error>((resolve) => process.once("warning", resolve));
    expect(() => events.emit("fallback", { reason: "down" })).not.toThrow();
    events.emit("fallback", { reason: "lagging" });
    expect(heard).toEqual(["once down", "on down", "on lagging"]);
    const warning = await warned;
    expect(warning.message).toMatch(/"fallback" event listener threw: Error: the app's bug/);
  });
});
