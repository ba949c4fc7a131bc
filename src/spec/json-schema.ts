import { z } from "zod";
import { PlatformSchema } from "./schema.js";

/** The JSON Schema for platform.yaml, generated from the zod schema (the single source). */
export function platformJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PlatformSchema, {
    io: "input",
    unrepresentable: "any",
    target: "draft-2020-12",
  });
  return {
    ...schema,
    $id: "https://tenkai.dev/schemas/platform.v1alpha1.json",
    title: "tenkai Platform",
    description: "One file that describes a multi-tenant web platform on Amazon EKS.",
  };
}
