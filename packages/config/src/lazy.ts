// zod and yaml, loaded on first use rather than with the package: together ~20 MiB of a
// process's memory (their code, the compiled schema), which a daemon whose configuration is
// parsed in a worker thread never needs in its own thread. Synchronous (the parse API is), so
// through require(): a bundled lvsctl hands its inlined copies out through the
// Symbol.for("lvs.require") hook (packages/cli/scripts/bundle.mjs), as it does for raw-socket.
import { createRequire } from "node:module";

type Zod = typeof import("zod");
type Yaml = typeof import("yaml");

function load(name: "zod" | "yaml"): unknown {
  const hook = (globalThis as Record<symbol, unknown>)[Symbol.for("lvs.require")];
  if (typeof hook === "function") {
    try {
      return (hook as (name: string) => unknown)(name);
    } catch {
      // A bundle that does not carry it: resolve it the usual way.
    }
  }
  return createRequire(import.meta.url)(name);
}

let zod: Zod | undefined;
let yaml: Yaml | undefined;

export function zodModule(): Zod {
  zod ??= load("zod") as Zod;
  return zod;
}

export function yamlModule(): Yaml {
  yaml ??= load("yaml") as Yaml;
  return yaml;
}

/**
 * A stand-in for a value made on first use: every operation on it is done on the real one.
 * The published schema constants stay importable values without building them at load.
 */
export function lazyValue<T extends object>(make: () => T): T {
  let real: T | undefined;
  const target = (): T => {
    real ??= make();
    return real;
  };
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(target(), key),
    set: (_, key, value) => Reflect.set(target(), key, value),
    has: (_, key) => Reflect.has(target(), key),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(target(), key);
      // A proxy may not report a property non-configurable that its (empty) target lacks.
      return d ? { ...d, configurable: true } : undefined;
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(target()),
    defineProperty: (_, key, d) => Reflect.defineProperty(target(), key, d),
    deleteProperty: (_, key) => Reflect.deleteProperty(target(), key),
  });
}
