import { ANY_NODE, type ConsistencyMode } from "./types.js";

/** `"off"`: every read stands alone, as without prisma-split's consistency. */
export const offMode: ConsistencyMode = Object.freeze({
  name: "off",
  readGate: () => ANY_NODE,
  recordWrite: () => undefined,
});
