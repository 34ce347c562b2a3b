import type { SplitEvents } from "../../src/index.ts";
import type { ExampleDatabase } from "./database.ts";

/**
 * Tells, one line per step, what prisma-split's shutdown does with the server handed to
 * `drainOnShutdown()` and with the database, and stops the throwaway cluster at the end (a real
 * database stays up, of course).
 */
export function logShutdown(events: SplitEvents, database: ExampleDatabase, log: (line: string) => void): void {
  events.on("shutdown:start", ({ trigger }) => {
    if (trigger !== "disconnect")
      log(`${trigger}: readiness off; no new connections; answering the requests already taken`);
  });
  events.on("shutdown:servers", ({ inFlight, idleClosed, refused, destroyed, durationMs }) =>
    log(
      `HTTP server closed in ${Math.round(durationMs)} ms: ${inFlight} request(s) in flight answered with Connection: close, ` +
        `${idleClosed} idle keep-alive connection(s) closed, ${refused} later request(s) answered 503` +
        (destroyed > 0 ? `, ${destroyed} connection(s) destroyed at the drain timeout` : ""),
    ),
  );
  events.on("shutdown:done", ({ trigger, drained, cancelled, durationMs }) => {
    if (trigger === "disconnect") return;
    log(
      `database: ${drained ? "every in-flight query finished" : `${cancelled} query(ies) cancelled after the drain timeout`}; ` +
        `clients and pools closed, ${Math.round(durationMs)} ms after the signal`,
    );
    void database.embedded?.stop().then(() => log("embedded cluster stopped"));
    process.once("exit", (code) => log(`process exits (status ${code}), by the signal unless another listener has it`));
  });
}
