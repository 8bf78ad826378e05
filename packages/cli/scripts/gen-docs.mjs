#!/usr/bin/env node
// Writes the shell completions and the man page into dist/ (part of `pnpm build`), from the
// built command definitions: dist/completions/lvsctl.bash, dist/completions/_lvsctl, dist/man/lvsctl.8
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { bashCompletion, createProgram, manPage, zshCompletion } = await import(
  join(pkgDir, "dist", "index.js")
);
const { version } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
const program = createProgram();
mkdirSync(join(pkgDir, "dist", "completions"), { recursive: true });
mkdirSync(join(pkgDir, "dist", "man"), { recursive: true });
writeFileSync(join(pkgDir, "dist", "completions", "lvsctl.bash"), bashCompletion(program));
writeFileSync(join(pkgDir, "dist", "completions", "_lvsctl"), zshCompletion(program));
writeFileSync(join(pkgDir, "dist", "man", "lvsctl.8"), manPage(program, { version }));
