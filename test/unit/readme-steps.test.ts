import { describe, expect, it } from "vitest";
import { codeBlocks, readmeSection, readmeSteps } from "../package/readme-steps.ts";

const fence = "```";
const markdown = [
  "# title",
  "## Before",
  "not this",
  "## From an empty app",
  "Prose.",
  `${fence}sh`,
  "# a comment line, not a heading",
  "mkdir app && cd app   # a trailing comment stays",
  "",
  "npm install \\",
  "  a b",
  fence,
  `${fence}ini`,
  "# .env",
  "A=1",
  fence,
  `${fence}prisma`,
  "// add to prisma/schema.prisma",
  "model M { id Int @id }",
  fence,
  "### A subsection belongs to the section",
  `${fence}ts`,
  "// src/db.ts",
  "export {};",
  fence,
  "## After",
  `${fence}sh`,
  "not this either",
  fence,
].join("\n");

describe("readme-steps", () => {
  it("takes a section up to the next level-2 heading, `#` lines inside fences not being headings", () => {
    const section = readmeSection(markdown, "From an empty app");
    expect(section.startsWith("Prose.")).toBe(true);
    expect(section).toContain("### A subsection");
    expect(section).not.toContain("not this");
    expect(() => readmeSection(markdown, "Missing")).toThrow('README has no section "## Missing".');
  });

  it("turns shell lines into commands and other blocks into the files their first line names", () => {
    expect(readmeSteps(codeBlocks(readmeSection(markdown, "From an empty app")))).toEqual([
      { kind: "command", command: "mkdir app && cd app   # a trailing comment stays" },
      { kind: "command", command: "npm install    a b" },
      { kind: "file", file: ".env", text: "# .env\nA=1\n", append: false },
      {
        kind: "file",
        file: "prisma/schema.prisma",
        text: "// add to prisma/schema.prisma\nmodel M { id Int @id }\n",
        append: true,
      },
      { kind: "file", file: "src/db.ts", text: "// src/db.ts\nexport {};\n", append: false },
    ]);
  });

  it("refuses a block that does not name its file, and a section that ends inside a fence", () => {
    expect(() => readmeSteps([{ lang: "ts", text: "const x = 1;\n" }])).toThrow(
      'A ```ts block in the README does not name its file on its first line ("// src/x.ts", "# .env" or ' +
        '"// add to prisma/schema.prisma"): "const x = 1;".',
    );
    expect(() => codeBlocks(`${fence}sh\nls\n`)).toThrow("README section ends inside a code block.");
  });
});
