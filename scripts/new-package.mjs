// Scaffolding for a new @lvs package: node scripts/new-package.mjs NAME "description" [dep...]
import { existsSync, mkdirSync, writeFileSync } from "node:fs";

const [name, description, ...deps] = process.argv.slice(2);
if (!name || !description) {
  console.error('usage: node scripts/new-package.mjs NAME "description" [dep@range ...]');
  process.exit(2);
}
const dir = `packages/${name}`;
if (existsSync(`${dir}/package.json`)) {
  console.error(`${dir} exists`);
  process.exit(1);
}
mkdirSync(`${dir}/src`, { recursive: true });
mkdirSync(`${dir}/test`, { recursive: true });
const dependencies = {};
for (const d of deps) {
  const at = d.lastIndexOf("@");
  if (at > 0) dependencies[d.slice(0, at)] = d.slice(at + 1);
  else dependencies[d] = "workspace:*";
}
const pkg = {
  name: `@lvs/${name}`,
  version: "0.0.0",
  description,
  license: "MIT",
  type: "module",
  repository: { type: "git", url: "git+https://example.invalid/lvs.git", directory: dir },
  keywords: ["lvs", "ipvs", "load-balancer", "linux"],
  engines: { node: ">=20" },
  sideEffects: false,
  main: "./dist/index.cjs",
  module: "./dist/index.js",
  types: "./dist/index.d.ts",
  exports: {
    ".": {
      import: { types: "./dist/index.d.ts", default: "./dist/index.js" },
      require: { types: "./dist/index.d.cts", default: "./dist/index.cjs" },
    },
    "./package.json": "./package.json",
  },
  files: ["dist", "README.md"],
  scripts: {
    build: "tsup",
    typecheck: "tsc -p tsconfig.json",
    test: "vitest run",
  },
  dependencies,
};
writeFileSync(`${dir}/package.json`, `${JSON.stringify(pkg, null, 2)}\n`);
writeFileSync(
  `${dir}/tsconfig.json`,
  `${JSON.stringify({ extends: "../../tsconfig.base.json", include: ["src", "test", "bench"] }, null, 2)}\n`,
);
writeFileSync(
  `${dir}/tsup.config.ts`,
  `import { defineConfig } from "tsup";\nimport { packageBuild } from "../../tsup.shared";\n\nexport default defineConfig(packageBuild());\n`,
);
writeFileSync(
  `${dir}/vitest.config.ts`,
  `import { sharedTestConfig } from "../../vitest.shared";\n\nexport default sharedTestConfig;\n`,
);
console.log(`created ${dir}`);
