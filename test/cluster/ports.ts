export * from "../../src/dev-cluster/ports.ts";
