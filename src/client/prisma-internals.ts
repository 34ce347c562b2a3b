/**
 * The only place prisma-split reads Prisma Client internals. Prisma 7 has no public way to list
 * a client's models and their relations from an instance, which the fluent API
 * (`db.user.findUnique(...).posts()`) needs. `test/unit/prisma-internals.test.ts` breaks loudly
 * if a Prisma release moves this.
 */

/** A model as routing needs it: its delegate key and its relations. */
export interface ModelShape {
  /** `User` */
  readonly name: string;
  /** `user`, the property on the client */
  readonly key: string;
  /** relation field → related model name */
  readonly relations: ReadonlyMap<string, string>;
}

interface RuntimeField {
  readonly name: string;
  readonly kind: string;
  readonly type: string;
}

interface RuntimeDataModel {
  readonly models: Readonly<Record<string, { readonly fields: readonly RuntimeField[] }>>;
}

export function readDataModel(client: unknown): ReadonlyMap<string, ModelShape> {
  const dataModel = (client as { _runtimeDataModel?: RuntimeDataModel })._runtimeDataModel;
  if (dataModel === undefined || typeof dataModel.models !== "object") {
    throw new Error(
      "prisma-split: cannot read the models of this PrismaClient (_runtimeDataModel is missing). " +
        "This Prisma version is not supported yet; please report it with your Prisma version.",
    );
  }
  const models = new Map<string, ModelShape>();
  for (const [name, model] of Object.entries(dataModel.models)) {
    const relations = new Map<string, string>();
    for (const field of model.fields) {
      if (field.kind === "object") relations.set(field.name, field.type);
    }
    models.set(name, { name, key: name.charAt(0).toLowerCase() + name.slice(1), relations });
  }
  return models;
}
