// `node --import ./tools/fuzz/register.mjs`: TypeScript imports for the fuzz driver and its workers.
import { register } from "node:module";

register("./ts-loader.mjs", import.meta.url);
