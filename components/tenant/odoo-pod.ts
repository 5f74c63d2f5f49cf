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
import { ODOO_ADMIN_SECRET, ODOO_REDIS_SECRET } from "../../model/odoo-secrets";

export type OdooRole = "web" | "cron";

/**
 * Composes odoo.conf with the secrets at start, so they live in files, never in env or ConfigMaps:
 * the database password, and the master password as its passlib hash only (Odoo verifies
 * `admin_passwd` through passlib, odoo/tools/config.py verify_admin_password).
 */
export const CONFIG_INIT_SCRIPT = [
  "set -eu",
  "umask 077",
  "{ cat /etc/odoo/odoo.conf;",
  "  printf 'db_password = %s\\n' \"$(cat /secrets/db/password)\";",
  `  printf 'admin_passwd = %s\\n' "$(cat /secrets/admin/${ODOO_ADMIN_SECRET.key})"; } > /run/odoo/odoo.conf`,
].join("\n");

const ODOO_ARGS = ["--config=/run/odoo/odoo.conf"];

/**
 * Starts Odoo with session_redis's URL (it carries the ACL user's password) read from its Secret file:
 * session_redis reads only its environment (session_redis/http.py, `os.getenv("ODOO_SESSION_REDIS_URL")`),
 * so the value enters the process environment here, never the pod spec or the Kubernetes API.
 */
export const SESSION_REDIS_START_SCRIPT = [
  "set -eu",
  `ODOO_SESSION_REDIS_URL="$(cat /secrets/redis/${ODOO_REDIS_SECRET.key})"`,
  "export ODOO_SESSION_REDIS_URL",
  `exec odoo ${ODOO_ARGS.join(" ")}`,
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
      volumes: odooVolumes(input, role),
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

/** Odoo itself, through the start script when its sessions live in Valkey. */
function odooCommand(input: TenantManifestInput) {
  return input.redis ? { command: ["/bin/sh", "-c", SESSION_REDIS_START_SCRIPT] } : { command: ["odoo"], args: ODOO_ARGS };
}

function odooContainer(input: TenantManifestInput, podResources: PodResources) {
  const health = { httpGet: { path: "/web/health", port: ODOO_HTTP_PORT } };
  return {
    name: "odoo",
    image: input.image,
    imagePullPolicy: "Always",
    ...odooCommand(input),
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
      ...(input.redis ? [{ name: "redis-url", mountPath: "/secrets/redis", readOnly: true }] : []),
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
    // The URL (TLS, the ACL user and its password) comes from a file: SESSION_REDIS_START_SCRIPT.
  ];
}

function odooVolumes(input: TenantManifestInput, role: OdooRole) {
  return [
    { name: "config", configMap: { name: ODOO_CONF_CONFIGMAP, items: [{ key: `${role}.conf`, path: "odoo.conf" }] } },
    { name: "run", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
    { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
    { name: "filestore", persistentVolumeClaim: { claimName: "filestore" } },
    { name: "db-password", secret: { secretName: "odoo-db", items: [{ key: "password", path: "password" }], defaultMode: 0o440 } },
    // Group-readable through the pod's fsGroup; nobody else on the node.
    { name: "admin-password", secret: { secretName: ODOO_ADMIN_SECRET.name, items: [{ key: ODOO_ADMIN_SECRET.key, path: ODOO_ADMIN_SECRET.key }], defaultMode: 0o440 } },
    ...(input.redis
      ? [{ name: "redis-url", secret: { secretName: ODOO_REDIS_SECRET.name, items: [{ key: ODOO_REDIS_SECRET.key, path: ODOO_REDIS_SECRET.key }], defaultMode: 0o440 } }]
      : []),
  ];
}
