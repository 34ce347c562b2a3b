// Compiled by `tsc --noEmit` (npm run typecheck): fails the build if createDb() loses the user's types.
import { createDb } from "../../src/index.ts";
import { PrismaClient } from "../generated/prisma/client.ts";

const db = createDb({ PrismaClient, primaryUrl: "postgresql://localhost/app" });

export async function typeChecks(): Promise<void> {
  const users = await db.user.findMany({ where: { email: { contains: "@" } }, include: { posts: true } });
  const firstTitle: string | undefined = users[0]?.posts[0]?.title;
  void firstTitle;
  const user = await db.$primary().user.findUnique({ where: { id: 1 } });
  const name: string | null | undefined = user?.name;
  void name;
  // @ts-expect-error: no such model
  db.nosuchmodel;
  // @ts-expect-error: wrong argument shape
  await db.user.findMany({ where: { email: 42 } });

  const extended = db.$extends({
    model: {
      user: {
        async byEmail(email: string) {
          return { email };
        },
      },
    },
    result: { user: { label: { needs: { email: true }, compute: (u) => `<${u.email}>` } } },
  });
  const found = await extended.user.byEmail("a@b.c");
  const email: string = found.email;
  void email;
  const labelled = await extended.user.findFirst();
  await extended.$replica().user.findFirst();
  const label: string | undefined = labelled?.label;
  void label;
  const count: number = await extended.$withPrimary(() => extended.user.count());
  void count;
  const seen = await extended.$withSession(async () => {
    await extended.user.create({ data: { email: "s@y.z" } });
    return { user: await extended.user.findFirst(), token: extended.$consistencyToken() };
  });
  const seenLabel: string | undefined = seen.user?.label;
  const token: string | undefined = seen.token;
  void seenLabel;
  const resumed: number = await db.$withConsistency(token, () => db.user.count());
  void resumed;
  // @ts-expect-error: a token is a string
  await db.$withConsistency(42, () => 1);
  const [a, b] = await db.$transaction([db.user.count(), db.post.findMany()]);
  const n: number = a;
  void n;
  void b;
  await db.$transaction(async (tx) => tx.user.create({ data: { email: "x@y.z" } }));
  await db.$transaction(async (tx) => {
    // Inside an interactive transaction `$primary()` is the transaction; `$replica()` throws.
    const same = tx.$primary();
    const inTx: number = await same.user.count();
    void inTx;
    const refused: () => never = tx.$replica;
    void refused;
    // @ts-expect-error: a transaction client opens no consistency context
    tx.$withSession;
  });
  await extended.$transaction(async (tx) => tx.user.byEmail("t@y.z"));
  const bounded: number = await db.$replica({ maxLagMs: 500 }).user.count();
  void bounded;
  // @ts-expect-error: maxLagMs is a number of ms
  db.$replica({ maxLagMs: "1s" });
  const inScope: number = await db.$withReplica({ maxLagMs: 100 }, () => db.user.count());
  const inPlainScope: number = await db.$withReplica(() => db.user.count());
  void inScope;
  void inPlainScope;
  createDb({ PrismaClient, reads: "primary", replicas: { preferZone: "eu-west-1a", zones: ["eu-west-1a"] } });
  createDb({ PrismaClient, replicas: { zones: ({ index }) => (index === 0 ? "a" : undefined) } });
  // @ts-expect-error: "replica" or "primary"
  createDb({ PrismaClient, reads: "replicas" });
  const rows = await db.$queryRaw<{ port: number }[]>`SELECT inet_server_port() AS port`;
  void rows[0]?.port;
  await db.$disconnect();
}
