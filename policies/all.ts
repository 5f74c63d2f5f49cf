/**
 * Every policy of the odoo-fleet pack, in one list. Side-effect free: the pack (policies/index.ts)
 * and the offline plan both read it.
 */
import { accessPolicies } from "./access";
import { dataProtectionPolicies } from "./data-protection";
import { edgePolicies } from "./edge";
import { isolationPolicies } from "./isolation";
import { platformBaselinePolicies } from "./platform-baseline";
import { stackPolicies } from "./stack";
import { taggingPolicies } from "./tagging";
import { workloadPolicies } from "./workload";

export const ALL_POLICIES = [...isolationPolicies, ...workloadPolicies, ...dataProtectionPolicies, ...platformBaselinePolicies, ...accessPolicies, ...stackPolicies, ...taggingPolicies, ...edgePolicies];
