import { describe, expect, it } from "vitest";
import { Prisma } from "../generated/prisma/client.ts";
import { portOf, uniqueEmail, useCluster } from "./harness.ts";

describe("user extensions applied on top keep routing", () => {
  const { cluster, db } = useCluster(1);
  const replicaPort = () => cluster().replicas[0]!.port;
  const primaryPort = () => cluster().primary.port;

  it("query, result, model and client components all work, and reads still reach the replica", async () => {
    const seen: string[] = [];
    const extended = db()
      .$extends({
        query: {
          $allModels: {
            async $allOperations({ model, operation, args, query }) {
              seen.push(`${model}.${operation}`);
              return query(args);
            },
          },
        },
      })
      .$extends({
        result: { nodeInfo: { where: { needs: { port: true }, compute: (info) => `port ${info.port}` } } },
        model: {
          nodeInfo: {
            async servedBy(this: unknown) {
              const delegate = Prisma.getExtensionContext(this) as unknown as {
                findFirstOrThrow(): Promise<{ port: number }>;
              };
              return (await delegate.findFirstOrThrow()).port;
            },
          },
        },
        client: {
          async $whoAnswers(this: unknown) {
            const client = Prisma.getExtensionContext(this) as unknown as {
              $queryRaw(query: TemplateStringsArray): Promise<Array<{ port: number }>>;
            };
            return portOf(await client.$queryRaw`SELECT inet_server_port() AS port`);
          },
        },
      });

    const rows = await extended.nodeInfo.findMany();
    expect(portOf(rows)).toBe(replicaPort());
    expect(rows[0]?.where).toBe(`port ${replicaPort()}`);
    expect(await extended.nodeInfo.servedBy()).toBe(replicaPort());
    expect(await extended.$whoAnswers()).toBe(replicaPort());
    expect(portOf(await extended.$primary().nodeInfo.findMany())).toBe(primaryPort());
    expect(await extended.$withPrimary(() => extended.nodeInfo.servedBy())).toBe(primaryPort());
    // The query extension ran on whichever node executed the call, once per call.
    expect(seen.filter((entry) => entry === "NodeInfo.findMany")).toHaveLength(2);

    const email = uniqueEmail("extended");
    await extended.user.create({ data: { email } });
    const onPrimary = await cluster().primary.query("SELECT 1 FROM users WHERE email = $1", [email]);
    expect(onPrimary).toHaveLength(1);
    const [inTransaction] = await extended.$transaction([extended.nodeInfo.findMany()]);
    expect(inTransaction[0]?.where).toBe(`port ${primaryPort()}`);
  });

  it("an extension that answers without calling query() is honoured on every node", async () => {
    const extended = db().$extends({
      query: { nodeInfo: { findMany: async () => [{ id: 0, port: -1, inRecovery: false }] } },
    });
    expect(await extended.nodeInfo.findMany()).toEqual([{ id: 0, port: -1, inRecovery: false }]);
    expect(await extended.$primary().nodeInfo.findMany()).toEqual([{ id: 0, port: -1, inRecovery: false }]);
  });
});
