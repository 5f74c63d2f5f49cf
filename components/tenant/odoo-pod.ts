/**
 * The pod template of Odoo's web and cron Deployments: an init container composes odoo.conf with the
 * passwords, then Odoo runs restricted, its sessions in Valkey when the tenant has a cache.
 */
import { JOB_POD_RESOURCES, type PodResources } from "../../tiers/sizing";
import { TIERS } from "../../tiers/catalogue";
import { CRON_LABELS, ODOO_COMPONENT_LABEL, ODOO_CONF_CONFIGMAP, WEB_LABELS } from "../../model/kubernetes";
import { ODOO_DATA_DIR, ODOO_HTTP_PORT, ODOO_WEBSOCKET_PORT } from "./odoo-conf";
import { containerResources, PRIORITY_CLASSES, RESTRICTED_CONTAINER, restrictedPod } from "./pod-spec";
import type { TenantManifestInput } from "./manifest-input";
import { tenantLabels } from "../../model/tags";

export type OdooRole = "web" | "cron";

/** Composes odoo.conf with the passwords at start, so they live in files, never in env or ConfigMaps. */
export const CONFIG_INIT_SCRIPT = [
  "set -eu",
  "umask 077",
  "{ cat /etc/odoo/odoo.conf;",
  "  printf 'db_password = %s\\n' \"$(cat /secrets/db/password)\";",
  "  printf 'admin_passwd = %s\\n' \"$(cat /secrets/admin/password)\"; } > /run/odoo/odoo.conf",
].join("\n");

export function odooPod(input: TenantManifestInput, role: OdooRole, podResources: PodResources) {
  const labels = { ...(role === "web" ? WEB_LABELS : CRON_LABELS), [ODOO_COMPONENT_LABEL]: "odoo", ...tenantLabels(input.tenant, input.tier) };
  return {
    metadata: { labels },
    spec: {
      serviceAccountName: "odoo",
      automountServiceAccountToken: false,
      priorityClassName: PRIORITY_CLASSES[input.tier].name,
      nodeSelector: input.scheduling.nodeSelector,
      tolerations: input.scheduling.tolerations,
      terminationGracePeriodSeconds: 60,
      securityContext: restrictedPod(input.posixId),
      ...(role === "web" ? { topologySpreadConstraints: webSpread(input) } : {}),
      initContainers: [configInitContainer(input)],
      containers: [odooContainer(input, podResources)],
      volumes: odooVolumes(role),
    },
  };
}

/** Web replicas spread over zones and hosts. */
function webSpread(input: TenantManifestInput) {
  const selector = () => ({ matchLabels: { ...WEB_LABELS, tenant: input.tenant } });
  return [
    {
      maxSkew: 1,
      topologyKey: "topology.kubernetes.io/zone",
      // Tiers that promise zone survival refuse to stack replicas in one zone.
      whenUnsatisfiable: TIERS[input.tier].odooWeb.minZones >= 2 ? "DoNotSchedule" : "ScheduleAnyway",
      labelSelector: selector(),
    },
    { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: selector() },
  ];
}

function configInitContainer(input: TenantManifestInput) {
  return {
    name: "config",
    image: input.image,
    imagePullPolicy: "Always",
    command: ["/bin/sh", "-c", CONFIG_INIT_SCRIPT],
    securityContext: RESTRICTED_CONTAINER,
    resources: containerResources(JOB_POD_RESOURCES),
    volumeMounts: [
      { name: "config", mountPath: "/etc/odoo", readOnly: true },
      { name: "run", mountPath: "/run/odoo" },
      { name: "db-password", mountPath: "/secrets/db", readOnly: true },
      { name: "admin-password", mountPath: "/secrets/admin", readOnly: true },
    ],
  };
}

function odooContainer(input: TenantManifestInput, podResources: PodResources) {
  const health = { httpGet: { path: "/web/health", port: ODOO_HTTP_PORT } };
  return {
    name: "odoo",
    image: input.image,
    imagePullPolicy: "Always",
    command: ["odoo"],
    args: ["--config=/run/odoo/odoo.conf"],
    ports: [
      { name: "http", containerPort: ODOO_HTTP_PORT },
      { name: "websocket", containerPort: ODOO_WEBSOCKET_PORT },
    ],
    env: sessionEnv(input),
    resources: containerResources(podResources),
    securityContext: RESTRICTED_CONTAINER,
    startupProbe: { ...health, periodSeconds: 10, failureThreshold: 30 },
    readinessProbe: { ...health, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
    livenessProbe: { ...health, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
    volumeMounts: [
      { name: "run", mountPath: "/run/odoo", readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
      { name: "filestore", mountPath: ODOO_DATA_DIR },
    ],
  };
}

/** Sessions in Valkey (session_redis) when the tenant has a cache, else in the filestore. */
function sessionEnv(input: TenantManifestInput) {
  if (!input.redis) return [{ name: "ODOO_SESSION_REDIS", value: "0" }];
  return [
    { name: "ODOO_SESSION_REDIS", value: "1" },
    { name: "ODOO_SESSION_REDIS_HOST", value: input.redis.host },
    { name: "ODOO_SESSION_REDIS_PORT", value: String(input.redis.port) },
    { name: "ODOO_SESSION_REDIS_PREFIX", value: input.redis.keyPrefix },
    { name: "ODOO_SESSION_REDIS_EXPIRATION", value: String(7 * 24 * 3600) },
    // session_redis reads its credentials from the environment only; the URL carries TLS and the ACL user.
    { name: "ODOO_SESSION_REDIS_URL", valueFrom: { secretKeyRef: { name: "odoo-redis", key: "url" } } },
    { name: "ODOO_SESSION_REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "odoo-redis", key: "password" } } },
  ];
}

function odooVolumes(role: OdooRole) {
  return [
    { name: "config", configMap: { name: ODOO_CONF_CONFIGMAP, items: [{ key: `${role}.conf`, path: "odoo.conf" }] } },
    { name: "run", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
    { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
    { name: "filestore", persistentVolumeClaim: { claimName: "filestore" } },
    { name: "db-password", secret: { secretName: "odoo-db", items: [{ key: "password", path: "password" }], defaultMode: 0o440 } },
    // Group-readable through the pod's fsGroup; nobody else on the node.
    { name: "admin-password", secret: { secretName: "odoo-admin", items: [{ key: "password", path: "password" }], defaultMode: 0o440 } },
  ];
}
