import { describe, expect, it } from "vitest";
import { inMemoryDriver } from "../../bench/lib/in-memory-driver.ts";
import { readDataModel } from "../../src/client/prisma-internals.ts";
import { PrismaClient } from "../generated/prisma/client.ts";

// prisma-split reads one Prisma Client internal (`_runtimeDataModel`) for the fluent API. This
// breaks loudly when a Prisma release moves or reshapes it.
describe("readDataModel on the generated client", () => {
  it("lists every model with its delegate key and relations", () => {
    const client = new PrismaClient({ adapter: inMemoryDriver });
    const models = readDataModel(client);
    const user = models.get("User");
    expect(user).toMatchObject({ name: "User", key: "user" });
    expect(user?.relations.get("posts")).toBe("Post");
    expect(models.get("Post")?.relations.get("author")).toBe("User");
  });

  it("refuses a client without a data model, naming the cause", () => {
    expect(() => readDataModel({})).toThrow(/_runtimeDataModel is missing/);
  });
});
