/**
 * The Kubernetes objects of one Odoo tenant, as plain data. Pure: the OdooTenant component creates
 * them; tests validate them against the Kubernetes schemas and the Pod Security Standards. Each step
 * lives with its concern: guard-rails.ts, workloads.ts (and odoo-pod.ts), routes.ts, backup-job.ts.
 */
import { limitRange, namespaceManifest, resourceQuota, serviceAccounts, tenantNetworkPolicies } from "./guard-rails";
import { cronDeployment, filestoreClaim, webAutoscaler, webDeployment, webDisruptionBudget } from "./workloads";
import { ingressRoutes, odooService, routeMiddlewares, tlsCertificate } from "./routes";
import { backupJob, backupNetworkPolicies } from "./backup-job";
import type { Manifest, TenantManifestInput } from "./manifest-input";

export interface TenantManifests {
  namespace: Manifest;
  resourceQuota: Manifest;
  limitRange: Manifest;
  networkPolicies: Manifest[];
  serviceAccounts: Manifest[];
  persistentVolumeClaim: Manifest;
  web: Manifest;
  cron: Manifest;
  service: Manifest;
  podDisruptionBudget?: Manifest;
  horizontalPodAutoscaler?: Manifest;
  certificate: Manifest;
  middlewares: Manifest[];
  ingressRoutes: Manifest[];
  /** The backup CronJob and the ConfigMap holding its script. */
  backupJob?: { scripts: Manifest; pushCredentials: Manifest; cronJob: Manifest };
}

/** Every object of the tenant, each from the step that owns it; absent steps leave their key out. */
export function tenantManifests(input: TenantManifestInput): TenantManifests {
  const backup = backupJob(input);
  const podDisruptionBudget = webDisruptionBudget(input);
  const horizontalPodAutoscaler = webAutoscaler(input);
  return {
    namespace: namespaceManifest(input),
    resourceQuota: resourceQuota(input),
    limitRange: limitRange(input),
    // The backup job's egress comes last, after the tenant's own policies.
    networkPolicies: [...tenantNetworkPolicies(input), ...backupNetworkPolicies(input)],
    serviceAccounts: serviceAccounts(input),
    persistentVolumeClaim: filestoreClaim(input),
    web: webDeployment(input),
    cron: cronDeployment(input),
    service: odooService(input),
    certificate: tlsCertificate(input),
    middlewares: routeMiddlewares(input),
    ingressRoutes: ingressRoutes(input),
    ...(backup ? { backupJob: backup } : {}),
    ...(podDisruptionBudget ? { podDisruptionBudget } : {}),
    ...(horizontalPodAutoscaler ? { horizontalPodAutoscaler } : {}),
  };
}
