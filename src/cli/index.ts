#!/usr/bin/env node
import { main } from "./main.js";

// `prisma-split doctor | head -1`: the reader may go before we have written everything. That is
// no error of ours (a shell pipeline's SIGPIPE, which Node ignores): stop writing, keep the code.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}

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
