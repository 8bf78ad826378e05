import type { InetError } from "../src/index.js";

/** The error `fn` throws (failing the test if it returns). */
export function caught(fn: () => unknown): InetError {
  try {
    fn();
  } catch (e) {
    return e as InetError;
  }
  throw new Error("did not throw");
}
