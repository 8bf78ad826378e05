// glob(3) as keepalived's `include` uses it (GLOB_BRACE | GLOB_MARK): csh brace expansion, then
// `*`, `?` and `[…]` per path segment; a leading `.` must be matched explicitly; each brace
// alternative's matches are sorted and appended in order. Hand-written (~100 lines) because the
// file access goes through the injectable ConfigFs, and the matching must be glibc's, not bash
// extglob's (which picomatch/minimatch implement).
import { posix } from "node:path";
import type { ConfigFs } from "./fs.js";

/** Expand `{a,b{c,d}}` csh-style. `\{` escapes. An unbalanced brace is kept literally. */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  const commas: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "{") {
      if (depth === 0) {
        open = i;
        commas.length = 0;
      }
      depth++;
    } else if (c === "}" && depth > 0) {
      depth--;
      if (depth === 0) {
        const pre = pattern.slice(0, open);
        const post = pattern.slice(i + 1);
        const cuts = [open, ...commas, i];
        const alts: string[] = [];
        for (let k = 0; k + 1 < cuts.length; k++) alts.push(pattern.slice(cuts[k]! + 1, cuts[k + 1]));
        // glibc: "{x}" (no comma) is a brace expression of one alternative too.
        const out: string[] = [];
        for (const alt of alts) for (const tail of expandBraces(alt + post)) out.push(pre + tail);
        return out;
      }
    } else if (c === "," && depth === 1) {
      commas.push(i);
    }
  }
  return [pattern];
}

export function hasMagic(s: string): boolean {
  return /(^|[^\\])[*?[]/.test(s);
}

export function hasBrace(s: string): boolean {
  return /(^|[^\\])\{/.test(s);
}

/** fnmatch(3) of one path segment (no FNM_PERIOD handling here; see globPath). */
export function segmentRegExp(seg: string): RegExp {
  let re = "^";
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === "\\" && i + 1 < seg.length) {
      re += escapeRe(seg[++i]!);
    } else if (c === "*") {
      re += "[^/]*";
    } else if (c === "?") {
      re += "[^/]";
    } else if (c === "[") {
      const end = seg.indexOf("]", i + 2);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let body = seg.slice(i + 1, end);
      let neg = false;
      if (body.startsWith("!") || body.startsWith("^")) {
        neg = true;
        body = body.slice(1);
      }
      re += `[${neg ? "^" : ""}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else {
      re += escapeRe(c);
    }
  }
  return new RegExp(`${re}$`, "s");
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function unescapeGlob(s: string): string {
  return s.replace(/\\(.)/g, "$1");
}

/** Matches of one brace-free pattern (absolute, or relative to `cwd`), sorted. */
export function globPath(pattern: string, cwd: string, fs: Required<ConfigFs>): string[] {
  const abs = pattern.startsWith("/") ? pattern : posix.join(cwd, pattern);
  if (!hasMagic(abs)) {
    const p = unescapeGlob(abs);
    return fs.stat(p) ? [p] : [];
  }
  const segs = abs.split("/").filter((s, i) => s !== "" || i === 0);
  let bases = ["/"];
  for (const seg of segs.slice(1)) {
    const next: string[] = [];
    if (!hasMagic(seg)) {
      for (const b of bases) {
        const p = posix.join(b, unescapeGlob(seg));
        if (fs.stat(p)) next.push(p);
      }
    } else {
      const re = segmentRegExp(seg);
      const dotOk = seg.startsWith(".");
      for (const b of bases) {
        const names = fs.readdir(b);
        if (!names) continue;
        for (const n of [...names].sort()) {
          if (n.startsWith(".") && !dotOk) continue;
          if (re.test(n)) next.push(posix.join(b, n));
        }
      }
    }
    bases = next;
    if (bases.length === 0) break;
  }
  return bases;
}

/** Full keepalived include expansion: braces, then glob; duplicates kept (glibc keeps them too). */
export function glob(pattern: string, cwd: string, fs: Required<ConfigFs>): string[] {
  const out: string[] = [];
  for (const p of expandBraces(pattern)) out.push(...globPath(p, cwd, fs));
  return out;
}
