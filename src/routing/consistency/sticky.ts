import { ANY_NODE, type ConsistencyMode, STICKY } from "./types.js";

/**
 * `"session"`: after a write, the context's reads go to the primary for `stickyMs` (Rails'
 * DatabaseSelector). Costs no query; exact only while no replica in rotation lags more than
 * `stickyMs`.
 */
export function stickyMode(stickyMs: number): ConsistencyMode {
  return {
    name: "session",
    readGate: (state, now) => (state.writtenAt !== undefined && now < state.writtenAt + stickyMs ? STICKY : ANY_NODE),
    recordWrite(state, now) {
      state.noteWrite(now());
      return undefined;
    },
  };
}
