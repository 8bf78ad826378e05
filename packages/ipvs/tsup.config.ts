import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.shared";

// stripInternal: IpvsClient.readForDiff (apply()'s read, @internal) stays out of the declarations.
export default defineConfig(packageBuild({ dts: { compilerOptions: { stripInternal: true } } }));
