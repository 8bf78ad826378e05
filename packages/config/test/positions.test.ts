// SourceMap across a structured clone (the director parses in a worker thread and posts it back).
import { describe, expect, it } from "vitest";
import { SourceMap } from "../src/index.js";

describe("SourceMap.revive", () => {
  it("answers as the original after a structured clone, and a trie record's prototype names nothing", () => {
    const map = new SourceMap();
    map.set(["virtualServers", 0], {
      pos: { file: "/k.conf", line: 4, column: 1 },
      keyword: "virtual_server",
    });
    map.set(["virtualServers", 0, "delayLoop"], {
      pos: { file: "/k.conf", line: 5, column: 3 },
      keyword: "delay_loop",
      valuePos: { file: "/k.conf", line: 5, column: 14 },
      hintKeyword: "",
    });
    const copy = SourceMap.revive(structuredClone(map));
    expect(copy).toBeInstanceOf(SourceMap);
    expect(copy.size).toBe(2);
    expect(copy.get(["virtualServers", 0, "delayLoop"])).toEqual(map.get(["virtualServers", 0, "delayLoop"]));
    expect(copy.positionOf(["virtualServers", 0, "realServers", 2])).toEqual({
      file: "/k.conf",
      line: 4,
      column: 1,
    });
    // Object.prototype's names are not paths (the clone gave the records a prototype back).
    expect(copy.get(["toString"])).toBeUndefined();
    expect(copy.get(["virtualServers", "constructor"])).toBeUndefined();
    expect(copy.nearest(["hasOwnProperty", 1])).toBeUndefined();
    const at = { pos: { file: "/k.conf", line: 9, column: 2 }, keyword: "toString" };
    copy.set(["virtualServers", "toString"], at);
    expect(copy.get(["virtualServers", "toString"])).toEqual(at);
    expect(Object.hasOwn(Object.prototype.toString, "i")).toBe(false);
  });
});
