import { isConfigurationError } from "../../src/errors.ts";

/** The setting and message of the ConfigurationError `resolve` throws; fails if it throws nothing else. */
export function configRefusal(resolve: () => unknown): { setting: string; message: string } {
  try {
    resolve();
  } catch (error) {
    if (isConfigurationError(error)) return { setting: error.setting, message: error.message };
    throw error;
  }
  throw new Error("expected a ConfigurationError");
}
