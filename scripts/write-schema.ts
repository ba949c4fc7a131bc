// Regenerates schema/platform.schema.json from the zod schema (`npm run schema`).
import { writeFileSync } from "node:fs";
import { platformJsonSchema } from "../src/spec/json-schema.js";

writeFileSync(
  new URL("../schema/platform.schema.json", import.meta.url),
  `${JSON.stringify(platformJsonSchema(), null, 2)}\n`,
);
