// include: relative to the including file, globs and braces, nesting, cycles, missing files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expandBraces, glob } from "../src/glob.js";
import { loadKeepalivedConf, memoryFs } from "../src/index.js";
import { issues, users, where } from "./helpers.js";

const vs = (ip: string) =>
  `virtual_server ${ip} 80 {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n  real_server 10.0.0.9 80 {\n  }\n}\n`;

describe("include", () => {
  it("resolves relative to the including file, nests, and keeps each file's positions", () => {
    const fs = memoryFs({
      "/etc/keepalived/keepalived.conf": "include conf.d/*.conf\n",
      "/etc/keepalived/conf.d/b.conf": vs("10.0.0.2"),
      "/etc/keepalived/conf.d/a.conf": `${vs("10.0.0.1")}include ../more/c.conf\n`,
      "/etc/keepalived/more/c.conf":
        "virtual_server 10.0.0.3 80 {\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n  bogus\n}\n",
    });
    const r = loadKeepalivedConf("/etc/keepalived/keepalived.conf", { fs, lookupUser: users });
    // glob results are sorted: a.conf (and what it includes) before b.conf
    expect(r.config.virtualServers.map((v) => ("address" in v.key ? v.key.address : ""))).toEqual([
      "10.0.0.1",
      "10.0.0.3",
      "10.0.0.2",
    ]);
    expect(r.files).toEqual([
      "/etc/keepalived/keepalived.conf",
      "/etc/keepalived/conf.d/a.conf",
      "/etc/keepalived/more/c.conf",
      "/etc/keepalived/conf.d/b.conf",
    ]);
    const bogus = r.warnings.find((w) => w.keyword === "bogus")!;
    expect([bogus.file, bogus.line, bogus.column]).toEqual(["/etc/keepalived/more/c.conf", 5, 3]);
    expect(r.sources.positionOf(["virtualServers", 2])).toEqual({
      file: "/etc/keepalived/conf.d/b.conf",
      line: 1,
      column: 1,
    });
  });

  it("an include can sit inside a block (real servers from a file)", () => {
    const fs = memoryFs({
      "/k/main.conf":
        "virtual_server 10.0.0.1 80 {\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  include rs/*.conf\n}\n",
      "/k/rs/1.conf": "real_server 10.0.1.1 80 {\n  weight 2\n}\n",
      "/k/rs/2.conf": "real_server 10.0.1.2 80 {\n}\n",
    });
    const r = loadKeepalivedConf("/k/main.conf", { fs, lookupUser: users });
    expect(r.config.virtualServers[0]!.realServers.map((x) => [x.address, x.weight])).toEqual([
      ["10.0.1.1", 2],
      ["10.0.1.2", 1],
    ]);
  });

  it("brace patterns expand csh-style, each alternative in order", () => {
    expect(expandBraces("{foo/{,cat,dog},bar}")).toEqual(["foo/", "foo/cat", "foo/dog", "bar"]);
    expect(expandBraces("a\\{b,c}")).toEqual(["a\\{b,c}"]);
    const fs = memoryFs({ "/d/x.conf": "", "/d/y.conf": "", "/d/.h.conf": "", "/d/z.txt": "" });
    expect(glob("{y,x}.conf", "/d", fs)).toEqual(["/d/y.conf", "/d/x.conf"]);
    expect(glob("*.conf", "/d", fs)).toEqual(["/d/x.conf", "/d/y.conf"]);
    expect(glob("[!x]*", "/d", fs)).toEqual(["/d/y.conf", "/d/z.txt"]);
    expect(glob("?.c*", "/d", fs)).toEqual(["/d/x.conf", "/d/y.conf"]);
  });

  it("detects a cycle and says which files form it", () => {
    const fs = memoryFs({ "/k/a.conf": "include b.conf\n", "/k/b.conf": "\ninclude a.conf\n" });
    const found = issues("include /k/a.conf\n", { fs, file: "/k/main.conf" });
    expect(where(found)).toEqual(["CONFIG_INCLUDE_CYCLE@2:1"]);
    expect(found[0]!.file).toBe("/k/b.conf");
    expect(found[0]!.message).toBe("include cycle a.conf → b.conf → a.conf; remove this include");
  });

  it("a file including itself is a cycle too", () => {
    const fs = memoryFs({ "/k/main.conf": "include main.conf\n" });
    expect(() => loadKeepalivedConf("/k/main.conf", { fs })).toThrow(/include cycle main\.conf → main\.conf/);
  });

  it("missing files: plain include warns (keepalived too), includea is an error", () => {
    const fs = memoryFs({});
    expect(where(issues("include nothere.conf\ninclude none/*.conf\n", { fs, file: "/k/m.conf" }))).toEqual([
      "w:CONFIG_INCLUDE_NO_MATCH@1:1",
      "w:CONFIG_INCLUDE_NO_MATCH@2:1",
    ]);
    expect(where(issues("includea nothere.conf\n", { fs, file: "/k/m.conf" }))).toEqual([
      "CONFIG_FILE_NOT_FOUND@1:1",
    ]);
    expect(where(issues("includew none/*.conf\n", { fs, file: "/k/m.conf" }))).toEqual([
      "CONFIG_FILE_NOT_FOUND@1:1",
    ]);
  });

  it("nesting is bounded", () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`/k/${i}.conf`] = `include ${i + 1}.conf\n`;
    files["/k/40.conf"] = "";
    expect(where(issues("include 0.conf\n", { fs: memoryFs(files), file: "/k/m.conf" }))).toContain(
      "CONFIG_INCLUDE_DEPTH@1:1",
    );
  });

  describe("on the real file system", () => {
    const dir = mkdtempSync(join(tmpdir(), "lvs-config-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    it("globs a conf.d directory relative to the main file, skipping sub-directories", () => {
      mkdirSync(join(dir, "conf.d", "sub"), { recursive: true });
      writeFileSync(join(dir, "keepalived.conf"), "global_defs {\n  router_id real\n}\ninclude conf.d/*\n");
      writeFileSync(join(dir, "conf.d", "10-vs.conf"), vs("10.0.0.1"));
      const r = loadKeepalivedConf(join(dir, "keepalived.conf"), { lookupUser: users });
      expect(r.config.globalDefs.routerId).toBe("real");
      expect(r.config.virtualServers).toHaveLength(1);
      expect(r.files).toHaveLength(2);
      expect(where(r.warnings)).toEqual(["w:CONFIG_INCLUDE_NO_MATCH@4:1"]); // conf.d/sub is a directory
    });
  });
});
