#!/usr/bin/env node
import { main } from "./main.js";

// `npx prisma-split doctor`. The exit code is set, not forced with process.exit, so stdout is flushed.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
