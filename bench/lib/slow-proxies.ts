import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Slowness } from "../../test/integration/slow-proxy.ts";

/** TCP proxies that make a node slow (SlowProxy), run in a child process. */
export interface SlowProxies {
  /** Each proxy's port on 127.0.0.1, in the order of the targets. */
  readonly ports: readonly number[];
  /** `url` pointed at proxy `index`. */
  urlFor(index: number, url: string): string;
  set(index: number, slowness: Omit<Slowness, "random">): Promise<void>;
  /** Chunks each proxy has stalled so far. */
  stalls(): Promise<number[]>;
  close(): Promise<void>;
}

/** One proxy per target port, each forwarding to 127.0.0.1:<target>. */
export async function startSlowProxies(targets: readonly number[]): Promise<SlowProxies> {
  const child: ChildProcess = fork(fileURLToPath(new URL("./slow-proxy-child.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let nextId = 0;
  const waiting = new Map<number, (value: unknown) => void>();
  child.on("message", (message: { id: number; value: unknown }) => {
    waiting.get(message.id)?.(message.value);
    waiting.delete(message.id);
  });
  const ask = <T>(message: Record<string, unknown>): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, resolve as (value: unknown) => void);
      child.send({ ...message, id }, (error) => {
        if (error) reject(error);
      });
    });
  const ports = await ask<number[]>({ type: "start", targets });
  return {
    ports,
    urlFor(index, url) {
      const parsed = new URL(url);
      parsed.hostname = "127.0.0.1";
      parsed.port = String(ports[index]);
      return parsed.toString();
    },
    async set(index, slowness) {
      await ask({ type: "set", index, slowness });
    },
    stalls: () => ask<number[]>({ type: "stalls" }),
    async close() {
      if (child.connected) await ask({ type: "close" }).catch(() => undefined);
      child.kill();
    },
  };
}
