export * from "../../src/dev-cluster/server-user.ts";
