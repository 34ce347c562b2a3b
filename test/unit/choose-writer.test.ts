import { describe, expect, it } from "vitest";
import type { ConnectionSettings } from "../../src/config/connection-url.ts";
import { chooseWriter } from "../../src/topology/choose-writer.ts";
import type { CandidateAnswer, CandidateRole } from "../../src/topology/writer-probe.ts";

function answer(identity: string, role: CandidateRole): CandidateAnswer {
  return { settings: { identity } as ConnectionSettings, role };
}

describe("chooseWriter", () => {
  const rows: Array<[string, CandidateAnswer[], boolean, string]> = [
    ["current is the one writer (a check at start)", [answer("a", "primary"), answer("b", "replica")], false, "stay"],
    [
      "current is the writer, something said its connections are wrong (25006, breaker)",
      [answer("a", "primary")],
      true,
      "reconnect",
    ],
    ["another is the one writer", [answer("a", "replica"), answer("b", "primary")], true, "move:b"],
    ["current gone, another writes", [answer("a", "unreachable"), answer("b", "primary")], false, "move:b"],
    ["nobody writes yet (promotion under way)", [answer("a", "unreachable"), answer("b", "replica")], false, "wait"],
    [
      "two writers, current not one (split brain)",
      [answer("a", "replica"), answer("b", "primary"), answer("c", "primary")],
      true,
      "ambiguous",
    ],
    ["two writers, current one of them", [answer("a", "primary"), answer("c", "primary")], false, "stay"],
  ];
  it.each(rows)("%s", (_, answers, sawReadOnly, expected) => {
    const choice = chooseWriter("a", answers, sawReadOnly);
    expect(choice.action === "move" ? `move:${choice.to.settings.identity}` : choice.action).toBe(expected);
  });
});
