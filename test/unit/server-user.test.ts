import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { unreachableForServerUser } from "../../src/dev-cluster/server-user.ts";

/** Plain directories and modes: which one blocks the server user, and what the message says. */
let root: string | undefined;
afterEach(() => {
  if (root) {
    chmodSync(path.join(root, "home"), 0o755);
    rmSync(root, { recursive: true, force: true });
  }
});

describe("a checkout the server user cannot read", () => {
  it("names the mode-700 directory in the way and what to do", () => {
    root = mkdtempSync(path.join(os.tmpdir(), "prisma-split-700-"));
    chmodSync(root, 0o755);
    const bin = path.join(root, "home", "app", "node_modules", "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, "initdb"), "");
    chmodSync(path.join(root, "home"), 0o700);
    // A user that owns none of it (nobody's ids), as `postgres` is for a checkout under /root.
    const error = unreachableForServerUser(
      path.join(bin, "initdb"),
      { name: "postgres", uid: 65534, gid: 65534 },
      new Error("spawn EACCES"),
    );
    expect(error.message).toContain(`${path.join(root, "home")} (mode 700`);
    expect(error.message).toContain('does not let user "postgres" in');
    expect(error.message).toContain(`chmod o+x ${path.join(root, "home")}`);
    expect(error.message).toMatch(/set PG_BIN to a PostgreSQL bin directory/);
  });
});
