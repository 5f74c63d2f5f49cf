/**
 * The typed stack spec: one module turns a stack's configuration into a validated spec. Every
 * problem is reported at once, naming the stack file and the key path, before the program
 * registers anything.
 *
 * schema.ts is the shape of each key, rules/ the rules that span keys, defaults.ts what the spec
 * derives, types.ts the spec itself, errors.ts how problems are reported.
 */
import { PROJECT } from "../model/stack";
import { parseBootstrapSpec } from "./bootstrap";
import { parseKeys } from "./config";
import { SpecError, stackFileFor, type SpecProblem } from "./errors";
import { buildPlatformSpec } from "./platform";
import { parseReviewSpec } from "./review";
import { platformChecks } from "./rules/platform";
import { CONFIG_KEYS, type Parsed } from "./schema";
import type { PlatformSpec, StackSpec } from "./types";

export { SpecError, type SpecProblem } from "./errors";
export { RESERVED_TENANT_NAMES, tenantNameProblem } from "./rules/tenants";
export { systemPoolOf } from "./defaults";
export type { TenantSpec } from "./schema";
export type { BootstrapSpec, DataShardSpec, PlatformSpec, ReviewSpec, StackSpec } from "./types";

/** Validates a stack file's configuration into the spec of a platform, a review stack or the bootstrap stack. */
export function parseStackSpec(config: Readonly<Record<string, string>>, stack: string, stackFile = stackFileFor(stack)): StackSpec {
  if (config[`${PROJECT}:bootstrap`] !== undefined) return parseBootstrapSpec(config, stack, stackFile);
  return config[`${PROJECT}:host`] !== undefined ? parseReviewSpec(config, stack, stackFile) : parsePlatformSpec(config, stack, stackFile);
}

/** Every problem of a stack's configuration at once, as `parseStackSpec` reports them; none when it parses. */
export function stackSpecProblems(config: Readonly<Record<string, string>>, stack: string, stackFile = stackFileFor(stack)): readonly SpecProblem[] {
  try {
    parseStackSpec(config, stack, stackFile);
    return [];
  } catch (error) {
    if (SpecError.isInstance(error)) return error.problems;
    throw error;
  }
}

/** Validates a platform stack's configuration into a PlatformSpec, or throws a SpecError listing every problem. */
export function parsePlatformSpec(config: Readonly<Record<string, string>>, stack: string, stackFile = stackFileFor(stack)): PlatformSpec {
  const { parsed, raw, problems } = parseKeys(config, CONFIG_KEYS, () => `unknown key; known keys are ${Object.keys(CONFIG_KEYS).join(", ")}`);
  const platform = parsed as Parsed;
  if (platform[`${PROJECT}:environment`] === "review") {
    problems.push({ path: `${PROJECT}:host`, message: "is required: review stacks deploy their tenants onto a host stack's cluster" });
  }
  problems.push(...platformChecks(platform, raw, stack));
  if (problems.length > 0) throw new SpecError(stackFile, problems);
  return buildPlatformSpec(platform, stack, stackFile);
}
