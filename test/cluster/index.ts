export * from "../../src/dev-cluster/index.ts";
