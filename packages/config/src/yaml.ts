// The native format: YAML (or JSON, which YAML 1.2 contains) holding the model of model.ts,
// validated by the same schema, with file:line:column on every error.
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { IssueSink, sortIssues } from "./errors.js";
import type { LoadResult } from "./keepalived.js";
import type { Path } from "./positions.js";
import { SourceMap } from "./positions.js";
import { type LookupUser, systemLookupUser } from "./users.js";
import { crossCheck, validateModel } from "./validate.js";

export interface YamlOptions {
  /** Name shown in messages (default "<input>"). */
  file?: string;
  lookupUser?: LookupUser;
}

/** Record key and value positions of every map entry and sequence item. */
function walk(node: unknown, path: Path, lc: LineCounter, file: string, sources: SourceMap): void {
  const at = (offset: number) => {
    const p = lc.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
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
  const sink = new IssueSink();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const top = { file, line: 1, column: 1 };
  for (const e of doc.errors) {
    const p = lc.linePos(e.pos[0]);
    sink.error(
      "CONFIG_YAML_SYNTAX",
      { file, line: p.line, column: p.col },
      `${e.message.split("\n")[0]}; fix the YAML syntax`,
    );
  }
  for (const w of doc.warnings) {
    const p = lc.linePos(w.pos[0]);
    sink.warn("CONFIG_YAML_SYNTAX", { file, line: p.line, column: p.col }, w.message.split("\n")[0]!);
  }
  sink.throwIfErrors();
  const sources = new SourceMap();
  walk(doc.contents, [], lc, file, sources);
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
  return { config: config!, warnings: sortIssues(sink.warnings()), files: [file], sources };
}
