// Runs checkers from inside a network namespace: `ip netns exec NS node probe-cli.mjs '<json>'`,
// where <json> is an array of CheckDefinition. Prints the array of ProbeResult as JSON. The built
// package (dist/) is what runs, exactly as the director would run it.
import { probe } from "../../dist/index.js";

const defs = JSON.parse(process.argv[2] ?? "[]");
const results = [];
for (const def of defs) results.push(await probe(def));
process.stdout.write(JSON.stringify(results));
