/** Model operations that only read: they go to a replica unless something says otherwise. */
export const READ_OPERATIONS = [
  "findUnique",
  "findUniqueOrThrow",
  "findFirst",
  "findFirstOrThrow",
  "findMany",
  "count",
  "aggregate",
  "groupBy",
] as const;

/** Model operations that Prisma's fluent API (`findUnique(...).posts()`) extends. */
export const FLUENT_OPERATIONS = [
  "findUnique",
  "findUniqueOrThrow",
  "findFirst",
  "findFirstOrThrow",
  "create",
  "update",
  "upsert",
  "delete",
] as const;

/** Every model operation of Prisma 7 on PostgreSQL; anything not a read is a write. */
export const MODEL_OPERATIONS = [
  ...READ_OPERATIONS,
  "create",
  "createMany",
  "createManyAndReturn",
  "update",
  "updateMany",
  "updateManyAndReturn",
  "upsert",
  "delete",
  "deleteMany",
] as const;

export const RAW_QUERY_METHODS = ["$queryRaw", "$queryRawUnsafe", "$queryRawTyped"] as const;
export const RAW_EXECUTE_METHODS = ["$executeRaw", "$executeRawUnsafe"] as const;

export type ModelOperation = (typeof MODEL_OPERATIONS)[number];

const reads: ReadonlySet<string> = new Set(READ_OPERATIONS);
const fluent: ReadonlySet<string> = new Set(FLUENT_OPERATIONS);

export function isReadOperation(operation: string): boolean {
  return reads.has(operation);
}

export function isFluentOperation(operation: string): boolean {
  return fluent.has(operation);
}
