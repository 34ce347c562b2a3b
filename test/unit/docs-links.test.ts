import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The README is the door to docs/: a page moved or a heading renamed must not leave a link to
 * nowhere. GitHub's anchors: the heading lower-cased, punctuation dropped, spaces to dashes.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const pages = [
  "README.md",
  "CHANGELOG.md",
  ...readdirSync(join(root, "docs")).map((name) => `docs/${name}`),
  ...readdirSync(join(root, "examples"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, "examples", entry.name, "README.md")))
    .map((entry) => `examples/${entry.name}/README.md`),
].filter((page) => page.endsWith(".md"));

/** Lines outside fenced code blocks. */
function prose(text: string): string[] {
  let fenced = false;
  return text.split("\n").filter((line) => {
    if (line.startsWith("```")) fenced = !fenced;
    return !fenced && !line.startsWith("```");
  });
}

function anchorsOf(page: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of prose(readFileSync(join(root, page), "utf8"))) {
    const heading = /^#{1,6} (.*)$/.exec(line)?.[1];
    if (heading !== undefined) {
      anchors.add(
        heading
          .toLowerCase()
          .replace(/[^\p{L}\p{N}_\- ]/gu, "")
          .replaceAll(" ", "-"),
      );
    }
  }
  return anchors;
}

describe("documentation links", () => {
  it("finds the pages it checks", () => {
    expect(pages).toContain("docs/routing.md");
    expect(pages).toContain("examples/express/README.md");
  });

  it.each(pages)("%s links only to files and headings that exist", (page) => {
    const broken: string[] = [];
    for (const line of prose(readFileSync(join(root, page), "utf8"))) {
      for (const [, target] of line.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
        if (target === undefined || /^(https?:|mailto:)/.test(target)) continue;
        const [path = "", anchor] = target.split("#");
        const file = path === "" ? page : normalize(join(dirname(page), path));
        if (!existsSync(join(root, file))) broken.push(`${target} (no file ${file})`);
        else if (anchor !== undefined && file.endsWith(".md") && !anchorsOf(file).has(anchor)) {
          broken.push(`${target} (no heading #${anchor} in ${file})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it("keeps the README a door: under 15 kB", () => {
    expect(readFileSync(join(root, "README.md")).length).toBeLessThan(15_000);
  });
});
