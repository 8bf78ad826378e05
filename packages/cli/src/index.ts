export { commandGroups, type RegisterCommand } from "./commands/index.js";
export { createProgram, runCli } from "./program.js";
