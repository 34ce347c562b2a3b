/**
 * A README section read as the steps a user follows: its shell commands line by line, and the
 * files its other code blocks say they are. Kept apart from the test that runs them so a README
 * block the reader cannot follow fails here, by name, before anything runs.
 */

export interface CodeBlock {
  /** The fence's info string: `sh`, `ts`, `ini`, ... */
  readonly lang: string;
  readonly text: string;
}

export type ReadmeStep =
  | { readonly kind: "command"; readonly command: string }
  /** A code block the reader puts in a file: written as it stands, or added to the file's end. */
  | { readonly kind: "file"; readonly file: string; readonly text: string; readonly append: boolean };

const shellLanguages = new Set(["sh", "bash", "shell"]);

/** The lines from `## <heading>` to the next heading of level 1 or 2; fenced lines are not headings. */
export function readmeSection(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  let inFence = false;
  let start: number | undefined;
  for (const [index, line] of lines.entries()) {
    if (line.startsWith("```")) inFence = !inFence;
    if (inFence || !/^#{1,2} /.test(line)) continue;
    if (start !== undefined) return lines.slice(start, index).join("\n");
    if (line === `## ${heading}`) start = index + 1;
  }
  if (start === undefined) throw new Error(`README has no section "## ${heading}".`);
  return lines.slice(start).join("\n");
}

/** The fenced code blocks of `markdown`, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  let open: { lang: string; lines: string[] } | undefined;
  for (const line of markdown.split("\n")) {
    if (open === undefined) {
      if (line.startsWith("```")) open = { lang: line.slice(3).trim(), lines: [] };
    } else if (line.startsWith("```")) {
      blocks.push({ lang: open.lang, text: `${open.lines.join("\n")}\n` });
      open = undefined;
    } else {
      open.lines.push(line);
    }
  }
  if (open !== undefined) throw new Error("README section ends inside a code block.");
  return blocks;
}

/** Each command of a shell block: continued lines joined, blank and comment-only lines left out. */
function shellCommands(text: string): string[] {
  return text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

/**
 * A non-shell block names its file on its first line, as a comment the reader may keep:
 * `// src/db.ts` or `# .env` (written), `// add to prisma/schema.prisma` (appended).
 */
function fileStep(block: CodeBlock): ReadmeStep {
  const first = block.text.split("\n", 1)[0] ?? "";
  const named = /^(?:\/\/|#)\s*(add to\s+)?(\S+)\s*$/.exec(first);
  if (!named?.[2]) {
    throw new Error(
      `A \`\`\`${block.lang} block in the README does not name its file on its first line ` +
        `("// src/x.ts", "# .env" or "// add to prisma/schema.prisma"): ${JSON.stringify(first)}.`,
    );
  }
  return { kind: "file", file: named[2], text: block.text, append: named[1] !== undefined };
}

/** The steps of `blocks` in order: one per shell command, one per file block. */
export function readmeSteps(blocks: readonly CodeBlock[]): ReadmeStep[] {
  return blocks.flatMap((block): ReadmeStep[] =>
    shellLanguages.has(block.lang)
      ? shellCommands(block.text).map((command) => ({ kind: "command", command }))
      : [fileStep(block)],
  );
}
