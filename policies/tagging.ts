/** Tags for cost allocation and ownership (advisory). */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { awsTags } from "./common";
import { TENANT_TAG, TIER_TAG } from "../model/tags";

export const REQUIRED_TAGS = ["project", "stack", "environment", "owner", "cost-centre"];

export const requiredTags: ResourceValidationPolicy = {
  name: "required-tags",
  description: "Tagged AWS resources carry project, stack, environment, owner and cost-centre; a tenant's resources also its tier.",
  enforcementLevel: "advisory",
  configSchema: { properties: { required: { type: "array", items: { type: "string" }, default: REQUIRED_TAGS } } },
  remediationSteps: "Set odoo-fleet:owner and odoo-fleet:costCentre in the stack file; components add the rest.",
  validateResource: (args, reportViolation) => {
    if (!args.type.startsWith("aws:") || args.props.tags === undefined) args.notApplicable("not a tagged AWS resource");
    const tags = awsTags(args.props);
    const missing = args.getConfig<{ required: string[] }>().required.filter((t) => !tags[t]);
    if (missing.length > 0) reportViolation(`${args.type.split(":").pop()} ${args.name} lacks tags ${missing.join(", ")}`);
    if (tags[TENANT_TAG] && !tags[TIER_TAG]) reportViolation(`${args.type.split(":").pop()} ${args.name} belongs to tenant ${tags[TENANT_TAG]} but has no tier tag`);
  },
};

export const taggingPolicies = [requiredTags];
