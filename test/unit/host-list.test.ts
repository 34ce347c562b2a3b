import { describe, expect, it } from "vitest";
import { parseConnectionUrl } from "../../src/config/connection-url.ts";
import { serverIdentity, splitHosts } from "../../src/config/host-list.ts";
import { resolveConfig } from "../../src/config/resolve-config.ts";
import { isConfigurationError } from "../../src/errors.ts";

class FakeClient {}

function refusal(action: () => unknown): { setting: string; message: string } {
  try {
    action();
  } catch (error) {
    if (!isConfigurationError(error)) throw error;
    return { setting: error.setting, message: error.message };
  }
  throw new Error("expected a ConfigurationError");
}

describe("splitHosts (libpq multi-host URLs)", () => {
  it("gives each host its own URL, with libpq's default port where none is given", () => {
    const list = splitHosts(
      "postgresql://app:s3cret@h1:5433,h2,[::1]:5434/shop?target_session_attrs=read-write&sslmode=require",
      "primaryUrl",
      "primary",
    );
    expect(list.hosts).toEqual([
      { host: "h1", port: 5433 },
      { host: "h2", port: 5432 },
      { host: "::1", port: 5434 },
    ]);
    expect(list.targetSessionAttrs).toBe("read-write");
    expect(list.urls).toEqual([
      "postgresql://app:s3cret@h1:5433/shop?sslmode=require",
      "postgresql://app:s3cret@h2:5432/shop?sslmode=require",
      "postgresql://app:s3cret@[::1]:5434/shop?sslmode=require",
    ]);
  });

  it("reads the ?host=&port= query forms: one port for all, or one per host", () => {
    expect(splitHosts("postgresql://app@/shop?host=a,b&port=6000", "primaryUrl", "primary").urls).toEqual([
      "postgresql://app@a:6000/shop",
      "postgresql://app@b:6000/shop",
    ]);
    expect(splitHosts("postgresql://app@x/shop?host=a,b&port=6000,6001", "primaryUrl", "primary").hosts).toEqual([
      { host: "a", port: 6000 },
      { host: "b", port: 6001 },
    ]);
    const wrong = refusal(() => splitHosts("postgresql://app:pw@/shop?host=a,b,c&port=1,2", "primaryUrl", "primary"));
    expect(wrong.setting).toBe("primaryUrl?port");
    expect(wrong.message).toMatch(/2 ports for 3 hosts/);
    expect(wrong.message).not.toContain("pw@");
  });

  it("keeps a single-host URL as it was", () => {
    const url = "postgresql://app:pw@db:6432/shop?sslmode=require";
    expect(splitHosts(url, "primaryUrl", "primary").urls).toEqual([url]);
    expect(splitHosts(`${url}&target_session_attrs=primary`, "primaryUrl", "primary").urls).toEqual([url]);
  });

  it("accepts the target_session_attrs values that make sense for the URL's role, and names the others", () => {
    for (const value of ["any", "read-write", "primary"]) {
      expect(
        splitHosts(`postgresql://a@h1,h2/d?target_session_attrs=${value}`, "primaryUrl", "primary").urls,
      ).toHaveLength(2);
    }
    for (const value of ["read-only", "standby", "prefer-standby"]) {
      expect(
        splitHosts(`postgresql://a@h1,h2/d?target_session_attrs=${value}`, "replicaUrls[0]", "replica").urls,
      ).toHaveLength(2);
    }
    const onPrimary = refusal(() =>
      splitHosts("postgresql://a:hunter2@h1,h2/d?target_session_attrs=standby", "DATABASE_URL", "primary"),
    );
    expect(onPrimary.setting).toBe("DATABASE_URL?target_session_attrs");
    expect(onPrimary.message).not.toContain("hunter2");
    expect(
      refusal(() => splitHosts("postgresql://a@h/d?target_session_attrs=read-write", "r", "replica")).setting,
    ).toBe("r?target_session_attrs");
  });

  it("refuses an empty host in a list", () => {
    expect(refusal(() => splitHosts("postgresql://a@h1,,h2/d", "primaryUrl", "primary")).message).toMatch(/empty host/);
  });
});

describe("identity of a server", () => {
  it("treats localhost and loopback addresses alike, and reads ?host=/?port=", () => {
    expect(serverIdentity("LOCALHOST", 5432)).toBe(serverIdentity("127.0.0.1", 5432));
    expect(serverIdentity("[::1]", 5432)).toBe(serverIdentity("localhost", 5432));
    const a = parseConnectionUrl("postgresql://u@db/app?host=127.0.0.1&port=5433", "primaryUrl");
    const b = parseConnectionUrl("postgresql://u@db/app?host=127.0.0.1&port=5432", "replicaUrls[0]");
    expect(a.identity).not.toBe(b.identity);
    expect(parseConnectionUrl("postgresql://u@localhost:5432/app", "x").identity).toBe(
      parseConnectionUrl("postgresql://u@127.0.0.1/app", "y").identity,
    );
  });
});

describe("resolveConfig with a multi-host URL", () => {
  it("makes every host a primary candidate and, without replicaUrls, a replica", () => {
    const config = resolveConfig(
      { PrismaClient: FakeClient, primaryUrl: "postgresql://app@h1:5432,h2:5433/app?target_session_attrs=read-write" },
      {},
    );
    expect(config.primaryCandidates.map((candidate) => candidate.identity)).toEqual([
      "h1:5432/app?app",
      "h2:5433/app?app",
    ]);
    expect(config.primary.identity).toBe("h1:5432/app?app");
    expect(config.replicasFromPrimaryUrl).toBe(true);
    expect(config.replicas.map((replica) => replica.identity)).toEqual(["h1:5432/app?app", "h2:5433/app?app"]);
  });

  it("splits DATABASE_REPLICA_URLS only where a new URL starts", () => {
    const config = resolveConfig(
      { PrismaClient: FakeClient },
      {
        DATABASE_URL: "postgresql://app@p/app",
        DATABASE_REPLICA_URLS: "postgresql://app@r1,r2:5433/app, postgres://app@r3/app",
      },
    );
    expect(config.replicas.map((replica) => replica.identity)).toEqual([
      "r1:5432/app?app",
      "r2:5433/app?app",
      "r3:5432/app?app",
    ]);
    expect(config.replicasFromPrimaryUrl).toBe(false);
  });

  it("keeps a ?host=a,b query list in one replica URL unless a new URL follows the comma", () => {
    const config = resolveConfig(
      { PrismaClient: FakeClient, primaryUrl: "postgresql://app@p/app" },
      { DATABASE_REPLICA_URLS: "postgresql://app@x/app?host=r1,r2,postgresql://app@r3/app" },
    );
    expect(config.replicas.map((replica) => replica.identity)).toEqual([
      "r1:5432/app?app",
      "r2:5432/app?app",
      "r3:5432/app?app",
    ]);
  });

  it("refuses a single-host primary URL given again as a replica through loopback aliases", () => {
    const wrong = refusal(() =>
      resolveConfig(
        {
          PrismaClient: FakeClient,
          primaryUrl: "postgresql://u@localhost/app",
          replicaUrls: ["postgresql://u@127.0.0.1:5432/app"],
        },
        {},
      ),
    );
    expect(wrong.message).toMatch(/same server and database as the primary URL/);
  });
});
