// The native format: YAML (or JSON, which YAML 1.2 contains) holding the model of model.ts,
// validated by the same schema, with file:line:column on every error.
import type { CST, LineCounter, Node } from "yaml";
import { IssueSink, sortIssues } from "./errors.js";
import type { LoadResult } from "./keepalived.js";
import { yamlModule } from "./lazy.js";
import { type ConfigLimits, resolveLimits, sizeText } from "./limits.js";
import type { Path } from "./positions.js";
import { SourceMap } from "./positions.js";
import { type LookupUser, systemLookupUser } from "./users.js";
import { crossCheck, validateModel } from "./validate.js";

export interface YamlOptions {
  /** Name shown in messages (default "<input>"). */
  file?: string;
  lookupUser?: LookupUser;
  /** `maxFileBytes`, `maxNesting` and `maxIssues` apply (limits.ts). */
  limits?: Partial<ConfigLimits>;
}

/**
 * Offset of the first collection nested deeper than `max`, walking the parser's concrete syntax
 * tree with a stack of our own: the `yaml` package composes documents recursively, and a stack
 * overflow in there (`[[[[…` ten thousand deep) has left V8 unable to compile regular
 * expressions for the rest of the process.
 */
function tooDeep(tokens: CST.Token[], max: number): number | undefined {
  const todo: [CST.Token, number][] = tokens.map((t) => [t, 0]);
  for (let next = todo.pop(); next; next = todo.pop()) {
    const [t, depth] = next;
    if (t.type === "document") {
      if (t.value) todo.push([t.value, depth]);
    } else if (t.type === "block-map" || t.type === "block-seq" || t.type === "flow-collection") {
      if (depth >= max) return t.offset;
      for (const item of t.items) {
        if ("key" in item && item.key) todo.push([item.key, depth + 1]);
        if (item.value) todo.push([item.value, depth + 1]);
      }
    }
  }
  return undefined;
}

/** Record key and value positions of every map entry and sequence item. */
function walk(node: unknown, path: Path, lc: LineCounter, file: string, sources: SourceMap): void {
  const at = (offset: number) => {
    const p = lc.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
  const { isMap, isPair, isScalar, isSeq } = yamlModule();
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (k === undefined) continue;
      const keyNode = pair.key as Node;
      const valNode = pair.value as Node | null;
      const p = [...path, k];
      sources.set(p, {
        pos: at(keyNode.range?.[0] ?? 0),
        keyword: k,
        ...(valNode?.range ? { valuePos: at(valNode.range[0]) } : {}),
      });
      walk(valNode, p, lc, file, sources);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const n = item as Node;
      const p = [...path, i];
      if (n?.range) sources.set(p, { pos: at(n.range[0]), keyword: String(path[path.length - 1] ?? "") });
      walk(n, p, lc, file, sources);
    });
  }
}

/** Parse the native YAML/JSON configuration. Throws ConfigError like parseKeepalivedConf. */
export function parseYamlConfig(text: string, opts: YamlOptions = {}): LoadResult {
  const file = opts.file ?? "<input>";
  const limits = resolveLimits(opts.limits);
  const sink = new IssueSink(limits.maxIssues);
  const top = { file, line: 1, column: 1 };
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark
  const bytes = text.length * 3 > limits.maxFileBytes ? Buffer.byteLength(text) : text.length;
  if (bytes > limits.maxFileBytes) {
    sink.error(
      "CONFIG_FILE_TOO_LARGE",
      top,
      `${file} is ${sizeText(bytes)}, more than the ${sizeText(limits.maxFileBytes)} a configuration file may have; check the input (or raise limits.maxFileBytes)`,
    );
    sink.throwIfErrors();
  }
  const { LineCounter, Parser, parseDocument } = yamlModule();
  const lc = new LineCounter();
  const deep = tooDeep([...new Parser(lc.addNewLine).parse(text)], limits.maxNesting);
  if (deep !== undefined) {
    const p = lc.linePos(deep);
    sink.error(
      "CONFIG_NESTING_TOO_DEEP",
      { file, line: p.line, column: p.col },
      `collections nest deeper than ${limits.maxNesting} levels; check the brackets and indentation (or raise limits.maxNesting)`,
    );
    sink.throwIfErrors();
  }
  const docLines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: docLines, prettyErrors: false, uniqueKeys: true });
  for (const e of doc.errors) {
    const p = docLines.linePos(e.pos[0]);
    sink.error(
      "CONFIG_YAML_SYNTAX",
      { file, line: p.line, column: p.col },
      `${e.message.split("\n")[0]}; fix the YAML syntax`,
    );
  }
  for (const w of doc.warnings) {
    const p = docLines.linePos(w.pos[0]);
    sink.warn("CONFIG_YAML_SYNTAX", { file, line: p.line, column: p.col }, w.message.split("\n")[0]!);
  }
  sink.throwIfErrors();
  const sources = new SourceMap();
  walk(doc.contents, [], docLines, file, sources);
  let raw = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    sink.error(
      "CONFIG_SCHEMA",
      top,
      "the document must be a mapping; start with `globalDefs:`, `vrrpInstances:` or `virtualServers:`",
    );
    sink.throwIfErrors();
  }
  const config = validateModel(raw, sources, sink, "yaml", top, opts.lookupUser ?? systemLookupUser);
  if (config) crossCheck(config, sources, sink, "yaml", top);
  sink.throwIfErrors();
  return {
    config: config!,
    warnings: sortIssues(sink.warnings()),
    warningCount: sink.counts.warningCount,
    files: [file],
    sources,
  };
}
