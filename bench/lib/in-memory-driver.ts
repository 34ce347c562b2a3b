import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlResultSet } from "@prisma/driver-adapter-utils";

const noRows: SqlResultSet = { columnNames: [], columnTypes: [], rows: [] };

const adapter: SqlDriverAdapter = {
  provider: "postgres",
  adapterName: "bench-in-memory",
  queryRaw: async () => noRows,
  executeRaw: async () => 0,
  executeScript: async () => {},
  startTransaction: async () => {
    throw new Error("the in-memory bench driver has no transactions");
  },
  dispose: async () => {},
};

/**
 * A driver adapter that answers every query at once with no rows, without any I/O. With it a
 * query runs all of Prisma's JavaScript (and a router's) and nothing else: what is left to
 * measure is CPU and heap of the client side. `findUnique` answers `null`.
 */
export const inMemoryDriver: SqlDriverAdapterFactory = {
  provider: "postgres",
  adapterName: "bench-in-memory",
  connect: async () => adapter,
};
