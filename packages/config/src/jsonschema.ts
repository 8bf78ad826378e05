// The JSON Schema of the native format, generated from the zod schema that validates it.
import { zodModule } from "./lazy.js";
import { schemas } from "./schema.js";

/** Canonical id of the published schema (also `lvsctl config schema`). */
export const CONFIG_SCHEMA_ID = "https://lvs.invalid/schemas/config.json";

let cached: Record<string, unknown> | undefined;

/** JSON Schema (draft 2020-12) of the YAML/JSON input: defaults shown, defaulted keys optional. */
export function configJsonSchema(): Record<string, unknown> {
  cached ??= {
    ...(zodModule().z.toJSONSchema(schemas().LvsConfigSchema, {
      io: "input",
      unrepresentable: "any",
    }) as Record<string, unknown>),
    $id: CONFIG_SCHEMA_ID,
  };
  return structuredClone(cached);
}
