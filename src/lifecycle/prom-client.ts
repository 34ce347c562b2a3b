import { createRequire } from "node:module";
import type * as PromClient from "prom-client";

export type PromClientModule = typeof PromClient;

let loaded: PromClientModule | null | undefined;

/**
 * prom-client, loaded on first use, or undefined when it is not installed: it is an optional
 * peer dependency, and prisma-split works without it. Resolved from here, so an app and
 * prisma-split share the app's copy (and its global registry).
 */
export function loadPromClient(): PromClientModule | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  try {
    loaded = createRequire(import.meta.url)("prom-client") as PromClientModule;
  } catch (error) {
    if ((error as { code?: string }).code !== "MODULE_NOT_FOUND") throw error;
    loaded = null;
  }
  return loaded ?? undefined;
}
