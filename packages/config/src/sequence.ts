// keepalived's sequence and list blocks (keepalived.conf(5) "Sequence blocks", "List blocks";
// lib/parser.c): a line starting `~SEQ(var, start, step, end)`, `~SEQx(…)` (values in hex) or
// `~LST(var, v1, v2, …)` / `~LST({a, b}, {1, 2}, {3, 4})` is read once per value, with $var set.
// Only the spec is parsed here; the lexer re-reads the rest of the line per binding.

/** One spec at the start of a line: the bindings to apply in turn, and the rest of the line. */
export interface SequenceSpec {
  /** Variable names (one for ~SEQ; one or more for ~LST). */
  vars: string[];
  /** Per iteration, the value of each variable. */
  bindings: string[][];
  /** Characters consumed (the spec and the blanks after it). */
  length: number;
}

export class SequenceError extends Error {}

/** The `(…)` after ~SEQ/~LST, braces kept together; throws SequenceError. */
function argsOf(text: string, open: number): { args: string[]; end: number } {
  if (text[open] !== "(") throw new SequenceError("expected `(` after the keyword");
  const args: string[] = [];
  let depth = 0;
  let cur = "";
  for (let i = open + 1; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "{") depth++;
    else if (ch === "}") {
      if (--depth < 0) throw new SequenceError("`}` without `{`");
    } else if (depth === 0 && (ch === "," || ch === ")")) {
      args.push(cur.trim());
      cur = "";
      if (ch === ")") return { args, end: i + 1 };
      continue;
    }
    cur += ch;
  }
  throw new SequenceError("no closing `)`");
}

const VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;

function number(s: string): number {
  if (!/^[+-]?(0x[0-9a-fA-F]+|\d+)$/.test(s)) throw new SequenceError(`\`${s}\` is not a number`);
  const neg = s.startsWith("-");
  const v = Number.parseInt(s.replace(/^[+-]/, ""), s.replace(/^[+-]/, "").startsWith("0x") ? 16 : 10);
  return neg ? -v : v;
}

/** Parse the spec at the start of `text` (which starts with `~SEQ` or `~LST`); at most `max` bindings. */
export function parseSequence(text: string, max: number): SequenceSpec {
  const m = /^~(SEQx?|LST)/.exec(text);
  if (!m) throw new SequenceError("expected ~SEQ(…), ~SEQx(…) or ~LST(…)");
  const { args, end } = argsOf(text, m[0].length);
  const rest = /^[ \t]*/.exec(text.slice(end))![0].length;
  const length = end + rest;
  if (m[1] === "LST") {
    const [head, ...vals] = args;
    if (!head || vals.length === 0) throw new SequenceError("~LST needs a variable and at least one value");
    const braced = head.startsWith("{");
    const unbrace = (s: string) => {
      if (!braced) return [s];
      if (!s.startsWith("{") || !s.endsWith("}"))
        throw new SequenceError(`\`${s}\` should be {…} like the variables`);
      return s
        .slice(1, -1)
        .split(",")
        .map((x) => x.trim());
    };
    const vars = unbrace(head);
    for (const v of vars) if (!VAR.test(v)) throw new SequenceError(`\`${v}\` is not a variable name`);
    if (vals.length > max) throw new SequenceError(`more than ${max} values`);
    const bindings = vals.map((v) => {
      const b = unbrace(v);
      if (b.length !== vars.length)
        throw new SequenceError(`\`${v}\` has ${b.length} values for ${vars.length} variables`);
      return b;
    });
    return { vars, bindings, length };
  }
  const [name, ...nums] = args;
  if (!name || !VAR.test(name)) throw new SequenceError("~SEQ needs a variable name first");
  if (nums.length < 1 || nums.length > 3)
    throw new SequenceError("~SEQ takes (var, end), (var, start, end) or (var, start, step, end)");
  const n = nums.map(number);
  const stop = n[n.length - 1]!;
  const start = n.length >= 2 ? n[0]! : stop < 0 ? -1 : 1;
  const step = n.length === 3 ? n[1]! : stop >= start ? 1 : -1;
  if (step === 0) throw new SequenceError("the step is 0");
  const bindings: string[][] = [];
  const hex = m[1] === "SEQx";
  for (let v = start; step > 0 ? v <= stop : v >= stop; v += step) {
    if (bindings.length >= max) throw new SequenceError(`more than ${max} values`);
    bindings.push([hex ? v.toString(16) : String(v)]);
  }
  return { vars: [name], bindings, length };
}
