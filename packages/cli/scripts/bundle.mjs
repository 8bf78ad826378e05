#!/usr/bin/env node
// Bundles lvsctl into one self-contained CommonJS file: all workspace code and pure-JavaScript
// dependencies inlined, the native addons (netlink, raw-socket, @lvs/sys) copied beside it into
// native/ and loaded from there.
//
//   node scripts/bundle.mjs [--out DIR]     (default: bundle/)  → DIR/lvsctl.cjs + DIR/native/*.node
//
// Run after `pnpm build` (it bundles the packages' built dist files, as published).
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = resolve(here, "..");
const { values } = parseArgs({ options: { out: { type: "string", default: join(pkgDir, "bundle") } } });
const outDir = resolve(values.out);
const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));

// Where each addon's compiled binary lives, found the way Node would resolve the package.
const requireFrom = (from, id) => createRequire(join(from, "package.json")).resolve(id);
const pkgRoot = (from, name) => dirname(requireFrom(from, `${name}/package.json`));
const ipvsDir = pkgRoot(pkgDir, "@lvs/ipvs");
const sysDir = pkgRoot(ipvsDir, "@lvs/sys");
const hcDir = pkgRoot(pkgDir, "@lvs/healthcheck");
const configDir = pkgRoot(pkgDir, "@lvs/config");
const netconfDir = pkgRoot(pkgDir, "@lvs/netconf");
const netlinkDir = pkgRoot(ipvsDir, "netlink");
const rawSocketDir = pkgRoot(hcDir, "raw-socket");
const arch = process.arch === "x64" ? "x64" : process.arch;
const natives = {
  "lvs-sys": join(sysDir, "build", "Release", "lvs_sys.node"),
  netlink: existsSync(join(netlinkDir, "build", "Release", "netlink.node"))
    ? join(netlinkDir, "build", "Release", "netlink.node")
    : join(netlinkDir, "prebuilds", `linux-${arch}`, "node.napi.node"),
  "raw-socket": join(rawSocketDir, "build", "Release", "raw.node"),
};
for (const [name, file] of Object.entries(natives)) {
  if (!existsSync(file)) throw new Error(`bundle: the ${name} addon is not built (${file})`);
}

// Runs before anything else in the bundle: how addons are found beside lvsctl.cjs (or beside the
// single executable), and the modules handed to packages that load them lazily by name. An addon
// is opened the first time a command needs it (so `--help`, `config check` or `sched pick` run
// without native/); a missing one is an error with code LVSCTL_NATIVE_MISSING and a one-line
// message naming the file and how to get it.
const prelude = `
const __lvsPath = require("node:path");
const __lvsFs = require("node:fs");
function __lvsIsSea() {
  try { return require("node:sea").isSea(); } catch { return false; }
}
function __lvsNativeDir() {
  if (process.env.LVSCTL_NATIVE_DIR) return process.env.LVSCTL_NATIVE_DIR;
  return __lvsPath.join(__lvsIsSea() ? __lvsPath.dirname(process.execPath) : __dirname, "native");
}
const __lvsNatives = new Map();
globalThis[Symbol.for("lvs.loadNative")] = function (name) {
  if (__lvsNatives.has(name)) return __lvsNatives.get(name);
  const file = __lvsPath.join(__lvsNativeDir(), name + ".node");
  const me = __lvsIsSea() ? "the lvsctl executable" : "lvsctl.cjs";
  let err;
  if (!__lvsFs.existsSync(file)) {
    err = new Error("native addon " + name + ".node not found next to " + me + " (expected " + file + "); reinstall the bundle with its native/ folder, point $LVSCTL_NATIVE_DIR at it, or install the package: npm install -g @lvs/cli");
  } else {
    try {
      const m = { exports: {} };
      process.dlopen(m, file);
      __lvsNatives.set(name, m.exports);
      return m.exports;
    } catch (e) {
      err = new Error("native addon " + file + " does not load (" + String(e && e.message).split("\\n")[0] + "); rebuild the bundle for this Node and architecture, or install the package: npm install -g @lvs/cli");
    }
  }
  err.code = "LVSCTL_NATIVE_MISSING";
  err.object = file;
  throw err;
};
globalThis[Symbol.for("lvs.require")] = function (name) {
  if (name === "raw-socket") return require(__RAW_SOCKET__);
  // @lvs/config loads its parsers on first use (its src/lazy.ts): inlined here, evaluated then.
  if (name === "zod") return require(__ZOD__);
  if (name === "yaml") return require(__YAML__);
  // So does @lvs/netconf with netlink (its src/netlink-module.ts).
  if (name === "netlink") return require(__NETLINK__);
  throw new Error("lvsctl bundle: no module " + name);
};
`;

// Third-party loaders that look for their binary next to their own package directory.
const nativeRedirects = {
  name: "lvs-native-redirects",
  setup(b) {
    // One copy of each workspace package: its CommonJS build, also where code uses import().
    b.onResolve({ filter: /^@lvs\/[a-z0-9-]+$/ }, (args) => ({
      path: join(pkgRoot(args.resolveDir, args.path), "dist", "index.cjs"),
    }));
    b.onLoad({ filter: /[\\/]netlink[\\/]dist[\\/]raw\.js$/ }, (args) => {
      const src = readFileSync(args.path, "utf8");
      // Opened on first use (the first netlink socket), not when the module is evaluated.
      const out = src.replace(
        /require\(['"]node-gyp-build['"]\)\(__dirname \+ ['"]\/\.\.['"]\)/,
        'new Proxy({}, { get: (_, key) => globalThis[Symbol.for("lvs.loadNative")]("netlink")[key] })',
      );
      if (out === src) throw new Error("bundle: netlink's addon loader changed; update scripts/bundle.mjs");
      return { contents: out, loader: "js" };
    });
    b.onLoad({ filter: /[\\/]raw-socket[\\/]index\.js$/ }, (args) => {
      const src = readFileSync(args.path, "utf8");
      const out = src.replace(
        /require\s*\(\s*["']\.\/build\/Release\/raw\.node["']\s*\)/,
        'globalThis[Symbol.for("lvs.loadNative")]("raw-socket")',
      );
      if (out === src)
        throw new Error("bundle: raw-socket's addon loader changed; update scripts/bundle.mjs");
      return { contents: out, loader: "js" };
    });
  },
};

/** The prelude with the paths of the modules its hook hands out, for esbuild to inline. */
function fillPrelude(text) {
  const paths = {
    __RAW_SOCKET__: join(rawSocketDir, "index.js"),
    __ZOD__: requireFrom(configDir, "zod"),
    __YAML__: requireFrom(configDir, "yaml"),
    __NETLINK__: requireFrom(netconfDir, "netlink"),
  };
  let out = text;
  for (const [mark, path] of Object.entries(paths)) out = out.replace(mark, JSON.stringify(path));
  if (/__[A-Z_]+__/.test(out)) throw new Error("bundle: a module path of the prelude is not filled in");
  return out;
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(join(outDir, "native"), { recursive: true });
const entry = join(outDir, ".entry.cjs");
writeFileSync(
  entry,
  `${fillPrelude(prelude)}\nrequire(${JSON.stringify(join(pkgDir, "dist", "bin.cjs"))});\n`,
);
const result = await build({
  entryPoints: [entry],
  outfile: join(outDir, "lvsctl.cjs"),
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // Prefer the CommonJS build of every package: one module system, no top-level await.
  mainFields: ["main", "module"],
  conditions: ["require", "node"],
  define: { __LVSCTL_VERSION__: JSON.stringify(pkg.version) },
  banner: { js: "#!/usr/bin/env node" },
  plugins: [nativeRedirects],
  legalComments: "eof",
  metafile: true,
  logLevel: "warning",
});
rmSync(entry);
for (const [name, file] of Object.entries(natives))
  copyFileSync(file, join(outDir, "native", `${name}.node`));
const inputs = Object.keys(result.metafile.inputs);
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes;
console.log(
  `bundle: ${join(outDir, "lvsctl.cjs")} (${(bytes / 1024).toFixed(0)} KiB, ${inputs.length} modules) + native/{${Object.keys(natives).join(",")}}.node`,
);
