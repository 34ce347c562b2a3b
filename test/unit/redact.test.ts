import { describe, expect, it } from "vitest";
import { redactUrl } from "../../src/config/redact.ts";

describe("redactUrl", () => {
  it.each([
    ["postgresql://app:s3cret@db/app", "postgresql://app:***@db/app"],
    ["postgresql://app:p%40ss@db:5432/app?sslmode=require", "postgresql://app:***@db:5432/app?sslmode=require"],
    ["postgresql://app@db/app", "postgresql://app@db/app"],
    ["postgresql://app:s3cret@ bad host/app", "postgresql://app:***@ bad host/app"],
    ["host=db password=s3cret user=app", "host=db password=*** user=app"],
  ])("%s → %s", (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});
