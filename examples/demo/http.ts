/** Small HTTP helpers the demo uses besides the load. */

export const TOKEN_HEADER = "x-consistency-token";

/** What one request got: its status and the nodes that served it (`x-served-by`). */
export interface Answer {
  readonly status: number;
  readonly servedBy: string;
}

export async function send(
  baseUrl: string,
  method: "GET" | "POST",
  route: string,
  options: { body?: unknown; token?: string } = {},
): Promise<Answer & { json: any; token: string | undefined }> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.token !== undefined) headers[TOKEN_HEADER] = options.token;
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    servedBy: response.headers.get("x-served-by") ?? "-",
    token: response.headers.get(TOKEN_HEADER) ?? undefined,
    json: response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text,
  };
}

/** Creates `count` users with a post each; returns their ids. */
export async function seedUsers(baseUrl: string, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const user = await send(baseUrl, "POST", "/users", {
      body: { email: `seed-${process.pid}-${i}@example.test`, name: `User ${i}` },
    });
    if (user.status !== 201)
      throw new Error(`seeding: POST /users answered ${user.status}: ${JSON.stringify(user.json)}`);
    await send(baseUrl, "POST", `/users/${user.json.id}/posts`, { body: { title: "Hello", body: `from user ${i}` } });
    ids.push(user.json.id);
  }
  return ids;
}
