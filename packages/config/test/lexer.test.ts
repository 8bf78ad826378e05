// The lexer: keepalived's comment, quote, brace and parameter rules, with positions.
import { describe, expect, it } from "vitest";
import { IssueSink } from "../src/errors.js";
import { memoryFs } from "../src/fs.js";
import { decomment, type Line, lexKeepalived } from "../src/lexer.js";

function lex(text: string, configId = "lb1") {
  const sink = new IssueSink();
  const { lines } = lexKeepalived(text, "/t.conf", { fs: memoryFs({}), sink, configId });
  return { lines, sink };
}
const show = (lines: Line[]) =>
  lines.map((l) =>
    l.kind === "words"
      ? l.words.map((w) => `${w.text}@${w.pos.line}:${w.pos.column}`).join(" ")
      : `${l.kind}@${l.pos.line}:${l.pos.column}`,
  );

describe("lexer", () => {
  it("splits braces out of lines, keeps every word's line:column", () => {
    expect(
      show(lex("vrrp_instance VI_1 {\n  virtual_ipaddress { 10.0.0.1/24 dev eth0 label eth0:1 }\n}").lines),
    ).toEqual([
      "vrrp_instance@1:1 VI_1@1:15",
      "{@1:20",
      "virtual_ipaddress@2:3",
      "{@2:21",
      "10.0.0.1/24@2:23 dev@2:35 eth0@2:39 label@2:44 eth0:1@2:50",
      "}@2:57",
      "}@3:1",
    ]);
  });

  it("# and ! start comments anywhere outside double quotes; \\# is a literal #", () => {
    expect(show(lex('a b # c\n! d\ne "f # g" ! h\ni \\#j').lines)).toEqual([
      "a@1:1 b@1:3",
      "e@3:1 f # g@3:3",
      "i@4:1 #j@4:4",
    ]);
  });

  it("braces inside double quotes are text", () => {
    expect(show(lex('script "x { y }" {').lines)).toEqual(["script@1:1 x { y }@1:8", "{@1:18"]);
  });

  it('a word starting with " runs to the next "; other words stop at "', () => {
    const { lines } = lex('a "b c"d e"f g"');
    const first = lines[0] as Extract<Line, { kind: "words" }>;
    expect(first.words.map((w) => [w.text, w.quoted])).toEqual([
      ["a", false],
      ["b c", true],
      ["d", false],
      ["e", false],
      ["f g", true],
    ]);
  });

  it("reports an unterminated double quote at its column", () => {
    const { sink } = lex('  notify "x y');
    expect(sink.issues.map((i) => [i.code, i.line, i.column])).toEqual([["CONFIG_UNMATCHED_QUOTE", 1, 10]]);
  });

  it("@ID lines are kept for the matching config id, @^ID for the others", () => {
    const text = "@lb1 router_id one\n@lb2 router_id two\n@^lb1 x not-one\n@^lb2 y not-two\n@lb1\n";
    expect(show(lex(text).lines)).toEqual(["router_id@1:6 one@1:16", "y@4:7 not-two@4:9"]);
    expect(show(lex(text, "lb2").lines)).toEqual(["router_id@2:6 two@2:16", "x@3:7 not-one@3:9"]);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: keepalived ${PARAM} syntax
  it("$NAME=VALUE definitions substitute $NAME and ${NAME}, recursively, at use time", () => {
    const text =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: keepalived ${PARAM} syntax
      "$BASE=10.2.${SUB}\n$SUB=0\nip ${BASE}.100/32\n$SUB=10\nip ${BASE}.100/32\n$P=7\npriority $P";
    expect(show(lex(text).lines).map((l) => l.replace(/@\d+:\d+/g, ""))).toEqual([
      "ip 10.2.0.100/32",
      "ip 10.2.10.100/32",
      "priority 7",
    ]);
  });

  it("multi-line definitions expand to several lines; an undefined $X stays as written", () => {
    const text =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: keepalived ${PARAM} syntax
      "$RS= \\\n  real_server 10.0.0.${N} 80 { \\\n    weight 1 \\\n  }\n$N=1\n$RS\n$N=2\n$RS\nkeep $UNDEFINED";
    expect(show(lex(text).lines).map((l) => l.replace(/@\d+:\d+/g, ""))).toEqual([
      "real_server 10.0.0.1 80",
      "{",
      "weight 1",
      "}",
      "real_server 10.0.0.2 80",
      "{",
      "weight 1",
      "}",
      "keep $UNDEFINED",
    ]);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: keepalived ${PARAM} syntax
  it("predefined _PWD, _HASH, _BANG; ${_RANDOM} is repeatable for one seed", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: keepalived ${PARAM} syntax
    const out = show(lex("$X=1\na ${_PWD} ${_HASH} ${_BANG}").lines);
    expect(out[0]!.replace(/@\d+:\d+/g, "")).toBe("a / # !");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: keepalived ${PARAM} syntax
    const r1 = show(lex("$X=1\nr ${_RANDOM 1 100}").lines);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: keepalived ${PARAM} syntax
    const r2 = show(lex("$X=1\nr ${_RANDOM 1 100}").lines);
    expect(r1).toEqual(r2);
    const n = Number(r1[0]!.split(" ")[1]!.split("@")[0]);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(100);
  });

  it("decomment keeps a source column for every character", () => {
    const d = decomment('\t  key \\#x "a # b" # rest');
    expect(d.text).toBe('key #x "a # b"');
    expect(d.cols[0]).toBe(4);
    expect(d.cols[4]).toBe(9); // the # of \#
    expect(d.unterminated).toBe(0);
  });

  it("CRLF line ends are fine", () => {
    expect(show(lex("a b\r\nc {\r\n}\r\n").lines)).toEqual(["a@1:1 b@1:3", "c@2:1", "{@2:3", "}@3:1"]);
  });
});
