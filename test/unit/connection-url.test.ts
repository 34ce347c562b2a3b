import { describe, expect, it } from "vitest";
import { parseConnectionUrl } from "../../src/config/connection-url.ts";
import { DEFAULTS } from "../../src/config/defaults.ts";
import { isConfigurationError } from "../../src/errors.ts";

describe("parseConnectionUrl", () => {
  it("gives Prisma's URL parameters their meaning and removes them from the driver's URL", () => {
    const settings = parseConnectionUrl(
      "postgresql://app:s3cret@db.internal:6432/shop?connection_limit=7&pool_timeout=2.5&connect_timeout=3&schema=tenant_1&sslmode=require&application_name=api",
      "primaryUrl",
    );
    expect(settings.poolMax).toBe(7);
    expect(settings.poolTimeoutMs).toBe(2500);
    expect(settings.connectTimeoutMs).toBe(3000);
    expect(settings.schema).toBe("tenant_1");
    const driverUrl = new URL(settings.connectionString);
    expect([...driverUrl.searchParams.keys()].sort()).toEqual(["application_name", "sslmode"]);
    expect(driverUrl.password).toBe("s3cret");
    expect(settings.redactedUrl).not.toContain("s3cret");
    expect(settings.identity).toBe("db.internal:6432/shop?app");
  });

  it("uses Prisma 6's defaults when the URL says nothing", () => {
    const settings = parseConnectionUrl("postgres://localhost/app", "primaryUrl");
    expect(settings.poolMax).toBe(DEFAULTS.url.connection_limit);
    expect(settings.poolTimeoutMs).toBe(10_000);
    expect(settings.connectTimeoutMs).toBe(5_000);
    expect(settings.schema).toBeUndefined();
    expect(settings.identity).toBe("localhost:5432/app?");
  });

  it("accepts 0 as 'wait forever' for the timeouts", () => {
    const settings = parseConnectionUrl("postgresql://h/db?pool_timeout=0&connect_timeout=0", "primaryUrl");
    expect(settings.poolTimeoutMs).toBe(0);
    expect(settings.connectTimeoutMs).toBe(0);
  });

  const refused: Array<[string, string, RegExp]> = [
    ["", "primaryUrl", /must be a postgresql:\/\/ connection string/],
    ["not a url at all", "primaryUrl", /is not a valid URL/],
    ["mysql://root:hunter2@db/app", "primaryUrl", /must use the postgresql:\/\/ scheme, got "mysql:"/],
    ["postgresql://u:hunter2@h/db?connection_limit=0", "primaryUrl?connection_limit", /positive integer, got "0"/],
    ["postgresql://u:hunter2@h/db?connection_limit=2.5", "primaryUrl?connection_limit", /positive integer, got "2.5"/],
    ["postgresql://u:hunter2@h/db?connection_limit=ten", "primaryUrl?connection_limit", /positive integer, got "ten"/],
    ["postgresql://u:hunter2@h/db?connection_limit=", "primaryUrl?connection_limit", /positive integer, got ""/],
    [
      "postgresql://u:hunter2@h/db?pool_timeout=-1",
      "primaryUrl?pool_timeout",
      /non-negative number of seconds, got "-1"/,
    ],
    ["postgresql://u:hunter2@h/db?pool_timeout=soon", "primaryUrl?pool_timeout", /non-negative number of seconds/],
    ["postgresql://u:hunter2@h/db?connect_timeout=NaN", "primaryUrl?connect_timeout", /non-negative number of seconds/],
    ["postgresql://u:hunter2@h/db?schema=a;drop", "primaryUrl?schema", /plain identifier/],
  ];
  it.each(refused)("refuses %s naming %s, without the password", (url, setting, message) => {
    let caught: unknown;
    try {
      parseConnectionUrl(url, "primaryUrl");
    } catch (error) {
      caught = error;
    }
    expect(isConfigurationError(caught)).toBe(true);
    const error = caught as Error & { setting: string };
    expect(error.setting).toBe(setting);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain("hunter2");
  });
});
