/**
 * A review stack (a pull request's environment): tenants only, deployed onto the cluster and data
 * stores of a host stack.
 */
import { PROJECT, type Environment } from "../model/stack";
import type { StackKind } from "../tiers/catalogue";
import { parseKeys } from "./config";
import { SpecError } from "./errors";
import { quotaOverTierCaps } from "./rules/capacity";
import { tenantListChecks } from "./rules/tenants";
import { CONFIG_KEYS, REVIEW_KEYS, type TenantSpec } from "./schema";
import type { ReviewSpec } from "./types";

export function parseReviewSpec(config: Readonly<Record<string, string>>, stack: string, stackFile: string): ReviewSpec {
  const { parsed, raw, problems } = parseKeys(config, REVIEW_KEYS, (key) =>
    key in CONFIG_KEYS ? "not used by a review stack: its network, cluster and data stores are its host's" : `unknown key; known keys are ${Object.keys(REVIEW_KEYS).join(", ")}`,
  );
  const kind = parsed[`${PROJECT}:kind`] as StackKind | undefined;
  const environment = parsed[`${PROJECT}:environment`] as Environment | undefined;
  if (kind && kind !== "shared") problems.push({ path: `${PROJECT}:kind`, message: "a review stack runs on a shared host: kind must be shared" });
  if (environment && environment !== "review") problems.push({ path: `${PROJECT}:environment`, message: `a stack with a host is a review stack: environment must be review, got ${environment}` });
  problems.push(...tenantListChecks(kind, raw, { stack }).problems);
  const tenants = parsed[`${PROJECT}:tenants`] as TenantSpec[] | undefined;
  tenants?.forEach((tenant, i) => {
    const over = quotaOverTierCaps(tenant, "review");
    if (over !== undefined) problems.push({ path: `${PROJECT}:tenants[${i}].expectedUsers`, message: over });
    if (tenant.shard !== undefined) problems.push({ path: `${PROJECT}:tenants[${i}].shard`, message: "a review stack's tenants use its host's first data shard" });
  });
  if (problems.length > 0) throw new SpecError(stackFile, problems);
  return {
    mode: "review",
    project: PROJECT,
    stack,
    stackFile,
    kind: "shared",
    environment: "review",
    region: parsed["aws:region"] as string,
    host: parsed[`${PROJECT}:host`] as { stack: string },
    tenants: tenants!,
    owner: parsed[`${PROJECT}:owner`] as string,
    costCentre: parsed[`${PROJECT}:costCentre`] as string,
    platformImages: parsed[`${PROJECT}:platformImages`] as { tools: string },
  };
}
