/**
 * Program entry, loaded by `pulumi up` (compiled to dist/infra/index.js, see Pulumi.yaml) and by the
 * offline plan. Pulumi calls the exported function inside the root stack; its result becomes the
 * stack outputs. The spec is validated before any resource is declared.
 */
import * as pulumi from "@pulumi/pulumi";
import { buildPlatform } from "./platform";
import { parsePlatformSpec } from "./spec";

export = async function odooFleet() {
  const spec = parsePlatformSpec(pulumi.runtime.allConfig(), pulumi.getStack());
  return buildPlatform(spec);
};
