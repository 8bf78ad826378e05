// keepalived's script quoting (lib/parser.c alloc_strvec_quoted_escaped, lib/notify.c
// set_script_params_array): scripts are argv arrays, never run through a shell.
//
// A notify/track script line is split twice:
//   1. the whole line into words, where "…" and '…' group (quotes removed, adjacent parts
//      join: `a"b c"d` is one word `ab cd`) and \-escapes work (\n \t \xHH \NNN \cC \E …);
//   2. the script word (the one after the keyword) again the same way → argv.
// So `notify "/bin/x.sh 'a b' c" user grp` → argv ["/bin/x.sh", "a b", "c"], user "user",
// group "grp".

export class QuoteError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const WS = " \t\f\v\r\n";

/** Split like alloc_strvec_quoted_escaped; throws QuoteError on an unterminated quote. */
export function splitQuoted(src: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < src.length) {
    while (i < src.length && WS.includes(src[i]!)) i++;
    if (i >= src.length) break;
    let word = "";
    let quote = "";
    let quoteAt = 0;
    for (; i < src.length; i++) {
      const c = src[i]!;
      if (c === "\\") {
        i++;
        if (i >= src.length) throw new QuoteError("missing character after \\ at end", i - 1);
        const n = src[i]!;
        if (n === "x" && /[0-9a-fA-F]/.test(src[i + 1] ?? "")) {
          let v = 0;
          while (/[0-9a-fA-F]/.test(src[i + 1] ?? "")) v = ((v << 4) | Number.parseInt(src[++i]!, 16)) & 0xff;
          word += String.fromCharCode(v);
        } else if (n === "c" && i + 1 < src.length) {
          word += String.fromCharCode(src.charCodeAt(++i) & 0x1f);
        } else if (n >= "0" && n <= "7") {
          let v = Number(n);
          for (let k = 0; k < 2 && src[i + 1]! >= "0" && src[i + 1]! <= "7"; k++)
            v = v * 8 + Number(src[++i]);
          word += String.fromCharCode(v & 0xff);
        } else {
          word += ESCAPES[n] ?? n;
        }
        continue;
      }
      if (quote) {
        if (c === quote) quote = "";
        else word += c;
        continue;
      }
      if (c === '"' || c === "'") {
        quote = c;
        quoteAt = i;
        continue;
      }
      if (WS.includes(c)) break;
      word += c;
    }
    if (quote) throw new QuoteError(`missing terminating ${quote}`, quoteAt);
    out.push(word);
  }
  return out;
}

const ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  E: "\x1b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/** The parts of a script line: argv (from the word after the keyword) and user/group after it. */
export interface ScriptLine {
  argv: string[];
  /** Words after the script word (`username [groupname]` for notify scripts). */
  rest: string[];
}

/** Parse a whole keepalived line (`notify_master "/x.sh a b" root`) into argv + trailing words. */
export function parseScriptLine(rawLine: string): ScriptLine {
  const words = splitQuoted(rawLine);
  const script = words[1];
  if (script === undefined) return { argv: [], rest: [] };
  return { argv: splitQuoted(script), rest: words.slice(2) };
}

/** Words that only mean something to a shell: the script runs without one, so warn. */
export function shellSyntax(argv: string[]): string | undefined {
  return argv.find(
    (a) => ["&&", "||", ";", "|", ">", ">>", "<", "2>&1", "&"].includes(a) || /^`|\$\(/.test(a),
  );
}

/** Quote argv back into one keepalived script string (inverse of the two-level split). */
export function quoteArgv(argv: string[]): string {
  return argv
    .map((a) => {
      if (a !== "" && /^[^\s'"\\]+$/.test(a)) return a;
      return `'${a.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
    })
    .join(" ");
}
