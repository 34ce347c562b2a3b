import type { CandidateAnswer } from "./writer-probe.js";

/**
 * What the primary follower does once the candidates answered:
 * - `stay`: the server the primary points at is the one writer;
 * - `reconnect`: it is a writer, but something said the primary's connections are wrong (25006:
 *   a DNS endpoint that moved; its breaker open while a fresh connection works):
 *   drop them, connect again to the same name;
 * - `move`: another candidate is the one writer: point the primary there;
 * - `wait`: no candidate takes writes yet (a promotion under way);
 * - `ambiguous`: several candidates take writes and the current one is not among them (split
 *   brain): prisma-split does not pick one.
 */
export type WriterChoice =
  | { readonly action: "stay" | "reconnect" | "wait" }
  | { readonly action: "move"; readonly to: CandidateAnswer }
  | { readonly action: "ambiguous"; readonly writers: readonly CandidateAnswer[] };

/**
 * The follower's decision, pure. `current` is the identity the primary points at; `suspect`:
 * something said its connections are wrong (25006, its breaker open), so a writer behind the same
 * name means stale connections. Otherwise (a check at start, a monitor probe that failed) a writer
 * there is fine.
 */
export function chooseWriter(current: string, answers: readonly CandidateAnswer[], suspect: boolean): WriterChoice {
  const writers = answers.filter((answer) => answer.role === "primary");
  if (writers.some((writer) => writer.settings.identity === current)) {
    return { action: suspect ? "reconnect" : "stay" };
  }
  if (writers.length === 0) return { action: "wait" };
  if (writers.length > 1) return { action: "ambiguous", writers };
  return { action: "move", to: writers[0] as CandidateAnswer };
}
