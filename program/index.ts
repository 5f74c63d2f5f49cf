/**
 * Program entry, loaded by `pulumi up` (compiled to dist/program/index.js, see Pulumi.yaml) and by the
 * offline plan. Pulumi calls the exported function inside the root stack; its result becomes the
 * stack outputs. The spec is validated before any resource is declared.
 */
import * as pulumi from "@pulumi/pulumi";
import { buildBootstrap } from "./bootstrap";
import { buildPlatform } from "./platform";
import { buildReviewStack } from "./review";
import { parseStackSpec } from "../spec/index";

export = async function odooFleet() {
  const spec = parseStackSpec(pulumi.runtime.allConfig(), pulumi.getStack());
  if (spec.mode === "bootstrap") return buildBootstrap(spec);
  return spec.mode === "review" ? buildReviewStack(spec) : buildPlatform(spec);
};
