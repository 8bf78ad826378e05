import { createRequire } from "node:module";

// Read at run time so the binary reports the published version.
const require = createRequire(import.meta.url);
export const VERSION: string = (require("../package.json") as { version: string }).version;
