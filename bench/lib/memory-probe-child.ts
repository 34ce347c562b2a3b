/**
 * Entry point of the memory scenario's child process, started by scenarios/memory.ts as
 * `node --expose-gc --import tsx memory-probe-child.ts '<ProbeConfig JSON>'`; prints one line,
 * `PROBE_RESULT [...readings]`, on stdout.
 */
import { PROBE_MARKER, type ProbeConfig, probe } from "./memory-probe.ts";

const config = JSON.parse(process.argv[2] ?? "null") as ProbeConfig | null;
if (config === null) throw new Error("usage: memory-probe-child.ts '<ProbeConfig JSON>'");
const readings = await probe(config);
process.stdout.write(`${PROBE_MARKER}${JSON.stringify(readings)}\n`);
