import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export type PrismaSplitModule = typeof import("../../src/index.ts");

/** The built package, so the numbers are those of the code users run (not tsx's on-the-fly transpile). */
const distEntry = new URL("../../dist/index.js", import.meta.url);

let loaded: PrismaSplitModule | undefined;

/**
 * prisma-split as published: `dist/index.js`, built by `npm run build` (`npm run bench` builds
 * first). Typed from the source, loaded from the build: the bench still typechecks before a build.
 */
export async function loadPrismaSplit(): Promise<PrismaSplitModule> {
  if (loaded) return loaded;
  if (!existsSync(fileURLToPath(distEntry))) {
    throw new Error(`prisma-split is not built (${fileURLToPath(distEntry)} is missing): run \`npm run build\` first.`);
  }
  loaded = (await import(distEntry.href)) as PrismaSplitModule;
  return loaded;
}
