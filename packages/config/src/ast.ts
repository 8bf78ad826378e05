// Logical lines → a tree of statements. A statement is one line of words; a `{` on the same or
// the next line opens its block, `}` closes it (keepalived's process_stream/alloc_value_block).
import type { IssueSink, SourcePos } from "./errors.js";
import type { Line, Word } from "./lexer.js";

export interface Statement {
  /** First word: the keyword (or, in a list block, the first value). */
  keyword: Word;
  args: Word[];
  /** The line as written, for scripts (re-split with keepalived's quoting rules). */
  raw: string;
  block?: Block;
}

export interface Block {
  open: SourcePos;
  close?: SourcePos;
  body: Statement[];
}

/**
 * Build the tree; structural errors go to `sink` and the tree stays as complete as possible.
 * A block opened deeper than `maxNesting` is reported and skipped up to its `}` (the readers
 * recurse over the tree, so its depth must be bounded).
 */
export function buildTree(lines: Line[], sink: IssueSink, maxNesting = 64): Statement[] {
  const root: Statement[] = [];
  const stack: { body: Statement[]; owner?: Statement }[] = [{ body: root }];
  let last: Statement | undefined; // statement on the line just before
  let skipping = 0; // depth inside a block that was too deep
  for (const line of lines) {
    if (skipping) {
      if (line.kind === "{") skipping++;
      else if (line.kind === "}") skipping--;
      continue;
    }
    const top = stack[stack.length - 1]!;
    if (line.kind === "words") {
      const [keyword, ...args] = line.words;
      const st: Statement = { keyword: keyword!, args, raw: line.raw };
      top.body.push(st);
      last = st;
    } else if (line.kind === "{") {
      const block: Block = { open: line.pos, body: [] };
      if (stack.length > maxNesting) {
        sink.error(
          "CONFIG_NESTING_TOO_DEEP",
          line.pos,
          `blocks nest deeper than ${maxNesting} levels; this block is skipped up to its '}': check the braces (or raise limits.maxNesting)`,
        );
        if (last && !last.block) last.block = block; // empty, so its keyword is not also "missing a block"
        skipping = 1;
      } else if (last && !last.block) {
        last.block = block;
        stack.push({ body: block.body, owner: last });
      } else {
        sink.error(
          "CONFIG_UNEXPECTED_BOB",
          line.pos,
          "unexpected '{': a block must follow its keyword (write `keyword {`)",
        );
        stack.push({ body: block.body });
      }
      last = undefined;
    } else {
      if (stack.length > 1) {
        const done = stack.pop()!;
        if (done.owner?.block) done.owner.block.close = line.pos;
      } else {
        sink.error("CONFIG_UNEXPECTED_EOB", line.pos, "extra '}' with no block open; delete it");
      }
      last = undefined;
    }
  }
  for (let i = stack.length - 1; i > 0; i--) {
    const owner = stack[i]!.owner;
    if (owner) {
      sink.error(
        "CONFIG_MISSING_EOB",
        owner.keyword.pos,
        `block \`${[owner.keyword, ...owner.args].map((w) => w.text).join(" ")} {\` is never closed; add \`}\` at its end`,
        owner.keyword.text,
      );
    }
  }
  return root;
}

/** Source text of a statement's words, for messages. */
export function statementText(st: Statement): string {
  return [st.keyword, ...st.args].map((w) => (w.quoted ? `"${w.text}"` : w.text)).join(" ");
}
