/**
 * The cache (Valkey) as a channel between tenants: each tenant's ACL user runs only the session
 * store's commands on its own session keys and channels; the `default` user is switched off.
 */
import { validateResourceOfType, type ResourceValidationPolicy } from "@pulumi/policy";
import * as aws from "@pulumi/aws";
import { SESSION_STORE_COMMANDS, tenantCacheAclProblems } from "../model/cache-acl";
import { TENANT_TAG } from "../model/tags";
import { awsTags } from "./common";

export const tenantCacheAcl: ResourceValidationPolicy = {
  name: "tenant-cache-acl",
  description:
    "A tenant's ElastiCache user names the session store's commands and nothing else (no SCAN, KEYS, RANDOMKEY, MONITOR, CLIENT, CONFIG, FLUSHALL, FLUSHDB, DEBUG, no category), reaches only its own session keys `session::<tenant>:*` and channels; the default user is off.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      sessionStoreCommands: {
        type: "array",
        items: { type: "string" },
        default: [...SESSION_STORE_COMMANDS],
        description: "The commands a tenant's user may be granted (lower case): what Odoo's session store sends.",
      },
    },
  },
  remediationSteps: "Use the Valkey component's tenantAccessString (model/cache-acl.ts tenantCacheAccessString).",
  validateResource: validateResourceOfType(aws.elasticache.User, (user, args, reportViolation) => {
    const access = user.accessString ?? "";
    if (user.userName === "default") {
      if (!/^off\b/.test(access) || /(^|\s)(\+|~|&|allcommands|allkeys|allchannels)/.test(access)) reportViolation(`ElastiCache default user ${user.userId} is not switched off with no rights: "${access}"`);
      return;
    }
    const tenant = awsTags(args.props)[TENANT_TAG] ?? user.userName;
    const allowed = args.getConfig<{ sessionStoreCommands: string[] }>().sessionStoreCommands;
    for (const problem of tenantCacheAclProblems(tenant, access, allowed)) reportViolation(`ElastiCache user ${user.userName} of tenant ${tenant} ${problem}`);
  }),
};

export const cacheAclPolicies = [tenantCacheAcl];
