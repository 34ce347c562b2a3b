/**
 * Child process of bench/lib/slow-proxies.ts: SlowProxy instances (test/integration/slow-proxy.ts)
 * in their own process, so their timers and socket work do not run on the measured event loop
 * nor count in its CPU time. Talks over IPC.
 */
import { type Slowness, SlowProxy } from "../../test/integration/slow-proxy.ts";

type Message =
  | { type: "start"; id: number; targets: number[] }
  | { type: "set"; id: number; index: number; slowness: Slowness }
  | { type: "stalls"; id: number }
  | { type: "close"; id: number };

const proxies: SlowProxy[] = [];
const reply = (id: number, value: unknown) => process.send?.({ id, value });

process.on("message", async (message: Message) => {
  switch (message.type) {
    case "start":
      for (const target of message.targets) proxies.push(await new SlowProxy(target).listen());
      reply(
        message.id,
        proxies.map((proxy) => proxy.port),
      );
      break;
    case "set":
      proxies[message.index]?.set(message.slowness);
      reply(message.id, true);
      break;
    case "stalls":
      reply(
        message.id,
        proxies.map((proxy) => proxy.stalls),
      );
      break;
    case "close":
      await Promise.all(proxies.map((proxy) => proxy.close()));
      reply(message.id, true);
      process.disconnect?.();
      break;
  }
});
