import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The version in prisma-split's own package.json, found by walking up from this module (dist/ in
 * the package, src/cli/ in the repository).
 */
export function packageVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === "prisma-split" && manifest.version !== undefined) return manifest.version;
    } catch {
      // No package.json here: one level up.
    }
    if (path.dirname(dir) === dir) return "unknown";
  }
}
