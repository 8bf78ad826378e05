/**
 * README examples that cannot rot: each package's README shows a file its tests run, verbatim.
 *
 *   const { block, file } = readmeBlock(new URL("../README.md", import.meta.url),
 *                                       new URL("./readme.example.ts", import.meta.url));
 *   expect(block).toBe(file);
 */
import { readFileSync } from "node:fs";

/** The fenced code blocks of a Markdown file, without their fences. */
export function codeBlocks(markdown: string): string[] {
  const out: string[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})/.exec(lines[i] as string);
    if (!open) continue;
    const fence = open[2] as string;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] as string).trimStart().startsWith(fence); i++)
      body.push(lines[i] as string);
    out.push(body.join("\n"));
  }
  return out;
}

/**
 * The README's code block that shows `example` (the one most alike it, line by line) and the
 * file's text, both without trailing blank space: equal when the README is up to date, and a
 * readable diff when not. `block` is "" when the README has no code block at all.
 */
export function readmeBlock(readme: URL | string, example: URL | string): { block: string; file: string } {
  const file = readFileSync(example, "utf8").trimEnd();
  const fileLines = file.split("\n").filter((l) => l.trim() !== "");
  const wanted = new Set(fileLines);
  let best = "";
  let bestScore = -1;
  for (const block of codeBlocks(readFileSync(readme, "utf8"))) {
    // Dice similarity of the non-blank lines: 1 for the file itself.
    const lines = block.split("\n").filter((l) => l.trim() !== "");
    const shared = lines.filter((l) => wanted.has(l)).length;
    const score = (2 * shared) / (lines.length + fileLines.length || 1);
    if (score > bestScore) {
      best = block;
      bestScore = score;
    }
  }
  return { block: best.trimEnd(), file };
}
