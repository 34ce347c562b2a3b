/**
 * `npx tsx bench/profile-summary.ts <file.cpuprofile> <operations> [top]`: where the CPU time of a
 * `npm run bench:profile` run went, in µs per operation — by package (`@prisma`, `opossum`, `pg`,
 * prisma-split's `dist/index.js`, Node internals, garbage collector, idle), then the `top`
 * functions by self time. `operations` is what the profile run printed: ops/s × (seconds + 1 s of
 * warm-up, which the profile covers too).
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const [file, operationsArgument, topArgument = "25"] = process.argv.slice(2);
if (file === undefined || operationsArgument === undefined) {
  throw new Error("usage: tsx bench/profile-summary.ts <file.cpuprofile> <operations> [top]");
}
const operations = Number(operationsArgument);
const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;

/** Where a frame's code lives: a package under node_modules, a `node:` module, or the file itself. */
function placeOf(url: string, functionName: string): string {
  if (url === "") return functionName || "(anonymous)";
  if (url.startsWith("node:")) return url;
  const packaged = url.split("node_modules/").at(-1) as string;
  if (packaged !== url) {
    const [scopeOrName, name] = packaged.split("/");
    return scopeOrName?.startsWith("@") ? `${scopeOrName}/${name}` : (scopeOrName as string);
  }
  return url.replace(/^file:\/\/.*?\/(dist|src|bench|test)\//, "$1/");
}

const selfMicros = new Map<number, number>();
profile.samples.forEach((id, index) => {
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
});
const byPlace = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const node of profile.nodes) {
  const micros = selfMicros.get(node.id);
  if (micros === undefined) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const place = placeOf(url, functionName);
  byPlace.set(place, (byPlace.get(place) ?? 0) + micros);
  const key = `${functionName || "(anonymous)"}  ${place}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
}

const perOperation = (micros: number) => (micros / operations).toFixed(2).padStart(8);
const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
const total = [...byPlace.values()].reduce((sum, micros) => sum + micros, 0);
const idle = byPlace.get("(idle)") ?? 0;
console.log(
  `${operations} operations; busy ${perOperation(total - idle).trim()} µs/op, idle ${perOperation(idle).trim()}`,
);
console.log("µs/op  by package or module");
for (const [place, micros] of sorted(byPlace).slice(0, 20)) console.log(`${perOperation(micros)}  ${place}`);
console.log("µs/op  by function (self time)");
for (const [key, micros] of sorted(byFunction).slice(0, Number(topArgument))) {
  console.log(`${perOperation(micros)}  ${key}`);
}
