/**
 * The Kubernetes objects of one Odoo tenant, as plain data. Pure: the OdooTenant component creates
 * them; tests validate them against the Kubernetes schemas and the Pod Security Standards.
 */
import { cronPodResources, JOB_POD_RESOURCES, webMaxSurge, webPodResources, type Compute, type OdooSizing, type PodResources, type TenantQuota } from "../../tiers/sizing";
import { TIERS, type TierName } from "../../tiers/catalogue";
import { CLUSTER_ISSUER, RESTRICTED_NAMESPACE_LABELS, TRAEFIK_NAMESPACE, TRAEFIK_POD_LABELS } from "../ingress";
import { BACKUP_OBJECT_TIER_TAG } from "../../model/tags";
import { ODOO_DATA_DIR, ODOO_HTTP_PORT, ODOO_WEBSOCKET_PORT } from "./odoo-conf";

import type { Input } from "@pulumi/pulumi";
import { WEB_LABELS } from "../../model/kubernetes";
import { CRON_LABELS } from "../../model/kubernetes";
import { ODOO_COMPONENT_LABEL } from "../../model/kubernetes";
import { tenantNamespace } from "../../model/kubernetes";

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, Input<string>> };
} & Record<string, unknown>;

/** Database and role names: one of each per tenant. */
export function tenantDatabase(tenant: string): { database: string; role: string } {
  const safe = tenant.replace(/-/g, "_");
  return { database: `odoo_${safe}`, role: `odoo_${safe}` };
}

export const PRIORITY_CLASSES: Readonly<Record<TierName, { name: string; value: number; preemption: "Never" | "PreemptLowerPriority" }>> = {
  essential: { name: "odoo-essential", value: 1000, preemption: "Never" },
  business: { name: "odoo-business", value: 10000, preemption: "PreemptLowerPriority" },
  critical: { name: "odoo-critical", value: 100000, preemption: "PreemptLowerPriority" },
};

/** Requests per second per client address, by tier; bursts of twice that. */
export const RATE_LIMITS: Readonly<Record<TierName, number>> = { essential: 20, business: 50, critical: 100 };

export interface TenantManifestInput {
  readonly tenant: string;
  readonly tier: TierName;
  readonly domains: readonly string[];
  readonly image: string;
  readonly sizing: OdooSizing;
  readonly quota: TenantQuota;
  readonly posixId: number;
  /** Where the pods may run: the shared pool, or the tenant's dedicated pool (with its toleration). */
  readonly scheduling: { nodeSelector: Record<string, string>; tolerations: Record<string, string>[] };
  /** CIDRs of the isolated subnets (PostgreSQL, Valkey, EFS). */
  readonly dataCidrs: readonly string[];
  /** The VPC block, excluded from internet egress. */
  readonly vpcCidr: string;
  readonly egress: { https: boolean; smtp: boolean };
  /** The cache endpoint (an Output in the program, a string in tests). @default none: sessions stay in the filestore */
  readonly redis?: { host: Input<string>; port: number; keyPrefix: string };
  /** Name of the PersistentVolume holding the tenant's EFS access point. */
  readonly filestoreVolume: string;
  /** IAM role of the tenant's backup service account. @default none: no backup service account */
  readonly backupRoleArn?: Input<string>;
  /** The logical backup CronJob (with `backupRoleArn`). @default none */
  readonly backup?: BackupJobInput;
}

export interface BackupJobInput {
  /** The platform's tools image: sh, pg_dump, tar, sha256sum, curl, the AWS CLI. */
  readonly image: string;
  readonly bucketName: Input<string>;
  readonly database: { host: Input<string>; port: number; name: string; role: string };
  readonly region: Input<string>;
  readonly pushgatewayUrl: string;
  /** Contents of backup-tenant.sh and credentials.sh (scripts/), for the job's ConfigMap. */
  readonly scripts: Readonly<Record<string, string>>;
}

/** A minute of the hour from the tenant's name, so tenants' jobs do not all start at once. */
export function jobMinute(tenant: string): number {
  let hash = 0;
  for (const c of tenant) hash = (hash * 31 + c.charCodeAt(0)) % 9973;
  return hash % 60;
}

/** Cron schedule of a tier's logical backups. */
export function backupSchedule(tenant: string, everyHours: number): string {
  const minute = jobMinute(tenant);
  if (everyHours >= 24) return `${minute} 2 * * *`;
  if (everyHours <= 1) return `${minute} * * * *`;
  return `${minute} */${everyHours} * * *`;
}

/** Cron schedule of a tier's restore drills (after the night's backup). */
export function drillSchedule(tenant: string, everyDays: number): string {
  const minute = jobMinute(tenant);
  if (everyDays <= 1) return `${minute} 4 * * *`;
  if (everyDays <= 7) return `${minute} 4 * * 0`;
  return `${minute} 4 1 * *`;
}

const quantity = {
  cpu: (millis: number) => (millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`),
  memory: (mib: number) => (mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`),
};
const resources = (r: PodResources) => ({
  requests: { cpu: quantity.cpu(r.requests.cpuMillis), memory: quantity.memory(r.requests.memoryMiB) },
  limits: { cpu: quantity.cpu(r.limits.cpuMillis), memory: quantity.memory(r.limits.memoryMiB) },
});

/** Pod Security Standards "restricted", for every container of every tenant pod. */
export const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] as string[] },
  seccompProfile: { type: "RuntimeDefault" },
} as const;

/** Pod Security Standards "restricted" at the pod level: one non-root POSIX identity, runtime seccomp. */
export function restrictedPod(uid: number) {
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: "RuntimeDefault" } } as const;
}

/** Composes odoo.conf with the passwords at start, so they live in files, never in env or ConfigMaps. */
export const CONFIG_INIT_SCRIPT = [
  "set -eu",
  "umask 077",
  "{ cat /etc/odoo/odoo.conf;",
  "  printf 'db_password = %s\\n' \"$(cat /secrets/db/password)\";",
  "  printf 'admin_passwd = %s\\n' \"$(cat /secrets/admin/password)\"; } > /run/odoo/odoo.conf",
].join("\n");

function odooPod(input: TenantManifestInput, role: "web" | "cron", podResources: PodResources) {
  const labels = { ...(role === "web" ? WEB_LABELS : CRON_LABELS), [ODOO_COMPONENT_LABEL]: "odoo", tenant: input.tenant, tier: input.tier };
  const health = { httpGet: { path: "/web/health", port: ODOO_HTTP_PORT } };
  const tier = TIERS[input.tier];
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
      ...(role === "web"
        ? {
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                // Tiers that promise zone survival refuse to stack replicas in one zone.
                whenUnsatisfiable: tier.odooWeb.minZones >= 2 ? "DoNotSchedule" : "ScheduleAnyway",
                labelSelector: { matchLabels: { ...WEB_LABELS, tenant: input.tenant } },
              },
              { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { ...WEB_LABELS, tenant: input.tenant } } },
            ],
          }
        : {}),
      initContainers: [
        {
          name: "config",
          image: input.image,
          imagePullPolicy: "Always",
          command: ["/bin/sh", "-c", CONFIG_INIT_SCRIPT],
          securityContext: RESTRICTED_CONTAINER,
          resources: resources(JOB_POD_RESOURCES),
          volumeMounts: [
            { name: "config", mountPath: "/etc/odoo", readOnly: true },
            { name: "run", mountPath: "/run/odoo" },
            { name: "db-password", mountPath: "/secrets/db", readOnly: true },
            { name: "admin-password", mountPath: "/secrets/admin", readOnly: true },
          ],
        },
      ],
      containers: [
        {
          name: "odoo",
          image: input.image,
          imagePullPolicy: "Always",
          command: ["odoo"],
          args: ["--config=/run/odoo/odoo.conf"],
          ports: [
            { name: "http", containerPort: ODOO_HTTP_PORT },
            { name: "websocket", containerPort: ODOO_WEBSOCKET_PORT },
          ],
          env: input.redis
            ? [
                { name: "ODOO_SESSION_REDIS", value: "1" },
                { name: "ODOO_SESSION_REDIS_HOST", value: input.redis.host },
                { name: "ODOO_SESSION_REDIS_PORT", value: String(input.redis.port) },
                { name: "ODOO_SESSION_REDIS_PREFIX", value: input.redis.keyPrefix },
                { name: "ODOO_SESSION_REDIS_EXPIRATION", value: String(7 * 24 * 3600) },
                // session_redis reads its credentials from the environment only; the URL carries TLS and the ACL user.
                { name: "ODOO_SESSION_REDIS_URL", valueFrom: { secretKeyRef: { name: "odoo-redis", key: "url" } } },
                { name: "ODOO_SESSION_REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "odoo-redis", key: "password" } } },
              ]
            : [{ name: "ODOO_SESSION_REDIS", value: "0" }],
          resources: resources(podResources),
          securityContext: RESTRICTED_CONTAINER,
          startupProbe: { ...health, periodSeconds: 10, failureThreshold: 30 },
          readinessProbe: { ...health, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
          livenessProbe: { ...health, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
          volumeMounts: [
            { name: "run", mountPath: "/run/odoo", readOnly: true },
            { name: "tmp", mountPath: "/tmp" },
            { name: "filestore", mountPath: ODOO_DATA_DIR },
          ],
        },
      ],
      volumes: [
        { name: "config", configMap: { name: "odoo-conf", items: [{ key: `${role}.conf`, path: "odoo.conf" }] } },
        { name: "run", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
        { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
        { name: "filestore", persistentVolumeClaim: { claimName: "filestore" } },
        { name: "db-password", secret: { secretName: "odoo-db", items: [{ key: "password", path: "password" }], defaultMode: 0o440 } },
        // Group-readable through the pod's fsGroup; nobody else on the node.
        { name: "admin-password", secret: { secretName: "odoo-admin", items: [{ key: "password", path: "password" }], defaultMode: 0o440 } },
      ],
    },
  };
}

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
  backupJob?: { scripts: Manifest; cronJob: Manifest };
}

export function tenantManifests(input: TenantManifestInput): TenantManifests {
  const ns = tenantNamespace(input.tenant);
  const tier = TIERS[input.tier];
  const meta = (name: string, extra: Record<string, string> = {}) => ({ name, namespace: ns, labels: { tenant: input.tenant, tier: input.tier, ...extra } });
  const web = webPodResources(input.sizing);
  const cron = cronPodResources(input.sizing);
  const q = input.quota;

  const networkPolicy = (name: string, spec: Record<string, unknown>): Manifest => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: meta(name), spec });
  const internet = { ipBlock: { cidr: "0.0.0.0/0", except: [input.vpcCidr] } };
  const networkPolicies: Manifest[] = [
    networkPolicy("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    networkPolicy("allow-dns", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
          ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
        },
      ],
    }),
    networkPolicy("allow-traefik-to-odoo", {
      podSelector: { matchLabels: WEB_LABELS },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": TRAEFIK_NAMESPACE } }, podSelector: { matchLabels: TRAEFIK_POD_LABELS } }],
          ports: [{ protocol: "TCP", port: ODOO_HTTP_PORT }, { protocol: "TCP", port: ODOO_WEBSOCKET_PORT }],
        },
      ],
    }),
    networkPolicy("allow-acme-solver", {
      podSelector: { matchLabels: { "acme.cert-manager.io/http01-solver": "true" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": TRAEFIK_NAMESPACE } }, podSelector: { matchLabels: TRAEFIK_POD_LABELS } }],
          ports: [{ protocol: "TCP", port: 8089 }],
        },
      ],
    }),
    networkPolicy("allow-data-stores", {
      podSelector: { matchLabels: { [ODOO_COMPONENT_LABEL]: "odoo" } },
      policyTypes: ["Egress"],
      egress: [
        {
          to: input.dataCidrs.map((cidr) => ({ ipBlock: { cidr } })),
          ports: [{ protocol: "TCP", port: 5432 }, ...(input.redis ? [{ protocol: "TCP", port: input.redis.port }] : []), { protocol: "TCP", port: 2049 }],
        },
      ],
    }),
    ...(input.egress.https
      ? [networkPolicy("allow-https", { podSelector: { matchLabels: { [ODOO_COMPONENT_LABEL]: "odoo" } }, policyTypes: ["Egress"], egress: [{ to: [internet], ports: [{ protocol: "TCP", port: 443 }] }] })]
      : []),
    ...(input.egress.smtp
      ? [networkPolicy("allow-smtp", { podSelector: { matchLabels: { [ODOO_COMPONENT_LABEL]: "odoo" } }, policyTypes: ["Egress"], egress: [{ to: [internet], ports: [{ protocol: "TCP", port: 587 }, { protocol: "TCP", port: 465 }] }] })]
      : []),
  ];

  const maxContainer: Compute = { cpuMillis: Math.max(web.limits.cpuMillis, cron.limits.cpuMillis), memoryMiB: Math.max(web.limits.memoryMiB, cron.limits.memoryMiB) };

  const manifests: TenantManifests = {
    namespace: {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns, labels: { ...RESTRICTED_NAMESPACE_LABELS, tenant: input.tenant, tier: input.tier, "odoo-fleet/role": "tenant" } },
    },
    resourceQuota: {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: meta("quota"),
      spec: {
        hard: {
          "requests.cpu": quantity.cpu(q.requests.cpuMillis),
          "requests.memory": quantity.memory(q.requests.memoryMiB),
          "limits.cpu": quantity.cpu(q.limits.cpuMillis),
          "limits.memory": quantity.memory(q.limits.memoryMiB),
          "requests.storage": `${q.storageGiB}Gi`,
          persistentvolumeclaims: "2",
          pods: String(q.pods),
          services: "2",
          "services.loadbalancers": "0",
          "services.nodeports": "0",
          configmaps: "10",
          secrets: "20",
        },
      },
    },
    limitRange: {
      apiVersion: "v1",
      kind: "LimitRange",
      metadata: meta("limits"),
      spec: {
        limits: [
          {
            type: "Container",
            default: { cpu: "250m", memory: "256Mi" },
            defaultRequest: { cpu: "100m", memory: "128Mi" },
            max: { cpu: quantity.cpu(maxContainer.cpuMillis), memory: quantity.memory(maxContainer.memoryMiB) },
          },
        ],
      },
    },
    networkPolicies,
    serviceAccounts: [
      { apiVersion: "v1", kind: "ServiceAccount", metadata: meta("odoo"), automountServiceAccountToken: false },
      ...(input.backupRoleArn
        ? [
            {
              apiVersion: "v1",
              kind: "ServiceAccount",
              metadata: { ...meta("odoo-backup"), annotations: { "eks.amazonaws.com/role-arn": input.backupRoleArn } },
              automountServiceAccountToken: false,
            },
          ]
        : []),
    ],
    persistentVolumeClaim: {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: meta("filestore"),
      spec: { accessModes: ["ReadWriteMany"], storageClassName: "", volumeName: input.filestoreVolume, resources: { requests: { storage: `${q.storageGiB}Gi` } } },
    },
    web: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta("odoo-web", WEB_LABELS),
      spec: {
        // With an autoscaler, the replica count is its to set; a fixed one here would fight it.
        ...(input.sizing.maxWebReplicas > input.sizing.webReplicas ? {} : { replicas: input.sizing.webReplicas }),
        revisionHistoryLimit: 5,
        selector: { matchLabels: { ...WEB_LABELS, tenant: input.tenant } },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: webMaxSurge(input.tier), maxUnavailable: webMaxSurge(input.tier) === 0 ? 1 : 0 } },
        template: odooPod(input, "web", web),
      },
    },
    cron: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta("odoo-cron", CRON_LABELS),
      spec: {
        replicas: 1,
        revisionHistoryLimit: 5,
        selector: { matchLabels: { ...CRON_LABELS, tenant: input.tenant } },
        // Never two cron pods at once.
        strategy: { type: "Recreate" },
        template: odooPod(input, "cron", cron),
      },
    },
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("odoo"),
      spec: {
        type: "ClusterIP",
        selector: { ...WEB_LABELS, tenant: input.tenant },
        ports: [
          { name: "http", port: ODOO_HTTP_PORT, targetPort: "http" },
          { name: "websocket", port: ODOO_WEBSOCKET_PORT, targetPort: "websocket" },
        ],
      },
    },
    certificate: {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: meta("tls"),
      spec: {
        secretName: "tls",
        dnsNames: [...input.domains],
        issuerRef: { name: CLUSTER_ISSUER, kind: "ClusterIssuer" },
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
      },
    },
    middlewares: [
      {
        apiVersion: "traefik.io/v1alpha1",
        kind: "Middleware",
        metadata: meta("security-headers"),
        spec: {
          headers: {
            stsSeconds: 31536000,
            stsIncludeSubdomains: true,
            contentTypeNosniff: true,
            browserXssFilter: true,
            // Odoo frames its own pages (website editor, reports): same origin only.
            customFrameOptionsValue: "SAMEORIGIN",
            referrerPolicy: "strict-origin-when-cross-origin",
          },
        },
      },
      {
        apiVersion: "traefik.io/v1alpha1",
        kind: "Middleware",
        metadata: meta("rate-limit"),
        spec: { rateLimit: { average: RATE_LIMITS[input.tier], burst: RATE_LIMITS[input.tier] * 2, period: "1s" } },
      },
    ],
    ingressRoutes: input.domains.map((domain) => {
      const middlewares = [{ name: "security-headers" }, { name: "rate-limit" }];
      return {
        apiVersion: "traefik.io/v1alpha1",
        kind: "IngressRoute",
        metadata: meta(domain),
        spec: {
          entryPoints: ["websecure"],
          routes: [
            { kind: "Rule", match: `Host(\`${domain}\`) && PathPrefix(\`/websocket\`)`, middlewares, services: [{ name: "odoo", port: ODOO_WEBSOCKET_PORT }] },
            { kind: "Rule", match: `Host(\`${domain}\`)`, middlewares, services: [{ name: "odoo", port: ODOO_HTTP_PORT }] },
          ],
          tls: { secretName: "tls" },
        },
      };
    }),
  };

  if (input.backup && input.backupRoleArn) {
    const b = input.backup;
    const labels = { app: "odoo-backup", [ODOO_COMPONENT_LABEL]: "odoo", tenant: input.tenant, tier: input.tier };
    manifests.backupJob = {
      scripts: { apiVersion: "v1", kind: "ConfigMap", metadata: meta("odoo-scripts"), data: { ...b.scripts } },
      cronJob: {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: meta("odoo-backup", { app: "odoo-backup" }),
        spec: {
          schedule: backupSchedule(input.tenant, tier.logicalBackup.everyHours),
          timeZone: "Etc/UTC",
          concurrencyPolicy: "Forbid",
          startingDeadlineSeconds: 1800,
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 2,
              activeDeadlineSeconds: 4 * 3600,
              template: {
                metadata: { labels },
                spec: {
                  serviceAccountName: "odoo-backup",
                  restartPolicy: "OnFailure",
                  priorityClassName: PRIORITY_CLASSES[input.tier].name,
                  nodeSelector: input.scheduling.nodeSelector,
                  tolerations: input.scheduling.tolerations,
                  securityContext: restrictedPod(input.posixId),
                  containers: [
                    {
                      name: "backup",
                      image: b.image,
                      imagePullPolicy: "Always",
                      command: ["/bin/sh", "/scripts/backup-tenant.sh"],
                      env: [
                        { name: "PGHOST", value: b.database.host },
                        { name: "PGPORT", value: String(b.database.port) },
                        { name: "PGUSER", value: b.database.role },
                        { name: "PGDATABASE", value: b.database.name },
                        { name: "PGSSLMODE", value: "require" },
                        { name: "PGPASSWORD_FILE", value: "/secrets/db/password" },
                        { name: "FILESTORE_DIR", value: ODOO_DATA_DIR },
                        { name: "BACKUP_BUCKET", value: b.bucketName },
                        { name: "BACKUP_PREFIX", value: `tenants/${input.tenant}/` },
                        { name: "BACKUP_TIER_TAG", value: `${BACKUP_OBJECT_TIER_TAG}=${input.tier}` },
                        { name: "TENANT", value: input.tenant },
                        { name: "AWS_REGION", value: b.region },
                        { name: "PUSHGATEWAY_URL", value: b.pushgatewayUrl },
                      ],
                      resources: resources(JOB_POD_RESOURCES),
                      securityContext: RESTRICTED_CONTAINER,
                      volumeMounts: [
                        { name: "scripts", mountPath: "/scripts", readOnly: true },
                        { name: "db-password", mountPath: "/secrets/db", readOnly: true },
                        { name: "filestore", mountPath: ODOO_DATA_DIR, readOnly: true },
                        { name: "tmp", mountPath: "/tmp" },
                      ],
                    },
                  ],
                  volumes: [
                    { name: "scripts", configMap: { name: "odoo-scripts" } },
                    { name: "db-password", secret: { secretName: "odoo-db", items: [{ key: "password", path: "password" }], defaultMode: 0o440 } },
                    { name: "filestore", persistentVolumeClaim: { claimName: "filestore", readOnly: true } },
                    { name: "tmp", emptyDir: { sizeLimit: "20Gi" } },
                  ],
                },
              },
            },
          },
        },
      },
    };
    manifests.networkPolicies.push(
      networkPolicy("allow-backup-egress", {
        podSelector: { matchLabels: { app: "odoo-backup" } },
        policyTypes: ["Egress"],
        egress: [
          // S3 (through the VPC's gateway endpoint) and STS for the role's web identity.
          { to: [internet], ports: [{ protocol: "TCP", port: 443 }] },
          { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus-pushgateway" } } }], ports: [{ protocol: "TCP", port: 9091 }] },
        ],
      }),
    );
  }
  if (tier.podDisruptionBudget.kind !== "none") {
    const budget = tier.podDisruptionBudget;
    manifests.podDisruptionBudget = {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta("odoo-web"),
      spec: { selector: { matchLabels: { ...WEB_LABELS, tenant: input.tenant } }, [budget.kind]: budget.value },
    };
  }
  if (input.sizing.maxWebReplicas > input.sizing.webReplicas) {
    manifests.horizontalPodAutoscaler = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: meta("odoo-web"),
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "odoo-web" },
        minReplicas: input.sizing.webReplicas,
        maxReplicas: input.sizing.maxWebReplicas,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
      },
    };
  }
  return manifests;
}
