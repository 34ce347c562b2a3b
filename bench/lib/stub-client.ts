/**
 * A stand-in for a generated PrismaClient with no Prisma inside: `user.findUnique()` returns a
 * lazy thenable (as a PrismaPromise is) that resolves at once. Put under createDb(), it leaves
 * nothing to time but prisma-split's own layer.
 */
const answer = Object.freeze({ id: 1 });

class StubPrismaPromise implements PromiseLike<unknown> {
  // biome-ignore lint/suspicious/noThenProperty: a PrismaPromise look-alike is a thenable on purpose
  then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return Promise.resolve(answer).then(onFulfilled, onRejected);
  }

  get [Symbol.toStringTag](): string {
    return "PrismaPromise";
  }
}

const userDelegate = Object.freeze({ findUnique: (_args: unknown) => new StubPrismaPromise() });

export class StubPrismaClient {
  /** What prisma-split reads to learn the models (see src/client/prisma-internals.ts). */
  readonly _runtimeDataModel = { models: { User: { fields: [{ name: "id", kind: "scalar", type: "Int" }] } } };
  readonly user = userDelegate;

  // biome-ignore lint/complexity/noUselessConstructor: createDb constructs it with options, as a PrismaClient
  constructor(_options: unknown) {}

  $extends(): this {
    return this;
  }

  async $connect(): Promise<void> {}

  async $disconnect(): Promise<void> {}

  async $transaction(): Promise<void> {}
}
