/**
 * Every policy of the odoo-fleet pack, in one list. Side-effect free: the pack (policies/index.ts)
 * and the offline plan both read it.
 */
import { accessPolicies } from "./access";
import { cacheAclPolicies } from "./cache-acl";
import { odooSecretsPolicies } from "./odoo-secrets";
import { dataProtectionPolicies } from "./data-protection";
import { filestorePolicies } from "./filestore";
import { edgePolicies } from "./edge";
import { isolationPolicies } from "./isolation";
import { keyPolicies } from "./keys";
import { platformBaselinePolicies } from "./platform-baseline";
import { postgresPolicies } from "./postgres";
import { restoreDrillPolicies } from "./restore-drill";
import { stackPolicies } from "./stack";
import { taggingPolicies } from "./tagging";
import { workloadPolicies } from "./workload";

export const ALL_POLICIES = [...isolationPolicies, ...workloadPolicies, ...dataProtectionPolicies, ...platformBaselinePolicies, ...accessPolicies, ...stackPolicies, ...taggingPolicies, ...postgresPolicies, ...filestorePolicies, ...cacheAclPolicies, ...odooSecretsPolicies, ...restoreDrillPolicies, ...keyPolicies, ...edgePolicies];
