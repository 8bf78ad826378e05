export { commandGroups, type RegisterCommand } from "./commands/index.js";
export { bashCompletion, ipvsadmOptions, manPage, walkCommands, zshCompletion } from "./docs.js";
export { createProgram, runCli } from "./program.js";
