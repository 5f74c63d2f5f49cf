/** Names and labels the components set and the policies and analyses read back: one home for each. */

export const WEB_LABELS = { app: "odoo-web" } as const;
export const CRON_LABELS = { app: "odoo-cron" } as const;
export const ODOO_COMPONENT_LABEL = "app.kubernetes.io/part-of";
/** The web and cron Deployments' names. */
export const WEB_DEPLOYMENT = WEB_LABELS.app;
export const CRON_DEPLOYMENT = CRON_LABELS.app;
/** The ConfigMap holding a tenant's odoo.conf files. */
export const ODOO_CONF_CONFIGMAP = "odoo-conf";

/** Who a namespace belongs to: a tenant, or the platform (ingress, monitoring, provisioning). */
export const NAMESPACE_ROLE_LABEL = "odoo-fleet/role";
export const NAMESPACE_ROLES = { tenant: "tenant", platform: "platform" } as const;

/** The platform's own namespace (provisioning jobs, restore drills): never a tenant's. */
export const SYSTEM_NAMESPACE = "odoo-fleet-system";
const TENANT_NAMESPACE_PREFIX = "odoo-";

export function tenantNamespace(tenant: string): string {
  return `${TENANT_NAMESPACE_PREFIX}${tenant}`;
}

/** The tenant a namespace belongs to, if it is a tenant's. */
export function tenantOfNamespace(namespace: string | undefined): string | undefined {
  return namespace?.startsWith(TENANT_NAMESPACE_PREFIX) && namespace !== SYSTEM_NAMESPACE ? namespace.slice(TENANT_NAMESPACE_PREFIX.length) : undefined;
}

/** The restore drills' pods, and the IRSA annotation naming the containers that get no AWS token. */
export const RESTORE_DRILL_LABELS = { app: "restore-drill" } as const;
/** IRSA's annotation on a service account: the IAM role its pods' tokens are exchanged for. */
export const IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn";
export const IRSA_SKIP_CONTAINERS = "eks.amazonaws.com/skip-containers";

/** Every control-plane log type EKS offers; `audit` is Security Hub EKS.8. */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;
