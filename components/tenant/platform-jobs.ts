/**
 * The tenant's jobs that run in the platform namespace, where the master credentials are: the Job that
 * creates its database and role, and the CronJob of its restore drills. Tenants never see these pods.
 */
import { readFileSync } from "node:fs";
import type * as pulumi from "@pulumi/pulumi";
import { TIERS, type TierName } from "../../tiers/catalogue";
import { tenantBackupPrefix } from "../data/backup-bucket";
import { RESTRICTED_CONTAINER, restrictedPod } from "./pod-spec";
import { projectFile } from "./project-files";
import { PROVISIONER_LABELS } from "./platform";
import { drillSchedule } from "./backup-job";
import { tenantLabels } from "../../model/tags";
import { IRSA_SKIP_CONTAINERS, RESTORE_DRILL_LABELS } from "../../model/kubernetes";

/** Database and role names: one of each per tenant. */
export function tenantDatabase(tenant: string): { database: string; role: string } {
  const safe = tenant.replace(/-/g, "_");
  return { database: `odoo_${safe}`, role: `odoo_${safe}` };
}

/** What the platform namespace offers every tenant's jobs. */
export interface ProvisionerSettings {
  /** Node selector of the platform's own pool. */
  readonly nodeSelector: Record<string, string>;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly scriptsConfigMap: string;
  readonly image: string;
  readonly masterSecretArn: pulumi.Input<string>;
  readonly region: pulumi.Input<string>;
}

/** One tenant's job in the platform namespace: whose, on which server, with what the platform offers. */
export interface PlatformJobInput {
  readonly tenant: string;
  readonly tier: TierName;
  readonly database: { readonly host: pulumi.Input<string>; readonly port: number };
  readonly provisioner: ProvisionerSettings;
}

/** Where the restore drill finds the tenant's backups, reports, and which account it runs as. */
export interface RestoreDrillSettings {
  readonly bucketName: pulumi.Input<string>;
  readonly pushgatewayUrl: string;
  readonly drill: { readonly serviceAccount: string };
}

/** The provisioning Job's pod: restricted, its script from the ConfigMap, the password as a file. */
export function provisionerPod(args: {
  readonly image: string;
  readonly serviceAccount: string;
  readonly scriptsConfigMap: string;
  readonly passwordSecret: string;
  readonly nodeSelector: Record<string, string>;
  readonly env: Record<string, pulumi.Input<string>>;
  /** @default "provision-tenant-db.sh" */
  readonly script?: string;
}) {
  return {
    serviceAccountName: args.serviceAccount,
    nodeSelector: args.nodeSelector,
    restartPolicy: "OnFailure",
    // The fleet-tools image's own non-root user.
    securityContext: restrictedPod(65532),
    containers: [
      {
        name: args.script ? args.script.replace(/\.sh$/, "") : "provision",
        image: args.image,
        imagePullPolicy: "Always",
        command: ["/bin/sh", `/scripts/${args.script ?? "provision-tenant-db.sh"}`],
        env: [...Object.entries(args.env).map(([name, value]) => ({ name, value })), { name: "TENANT_PASSWORD_FILE", value: "/secrets/tenant/password" }],
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        securityContext: RESTRICTED_CONTAINER,
        volumeMounts: [
          { name: "scripts", mountPath: "/scripts", readOnly: true },
          { name: "tenant", mountPath: "/secrets/tenant", readOnly: true },
          { name: "tmp", mountPath: "/tmp" },
        ],
      },
    ],
    volumes: [
      { name: "scripts", configMap: { name: args.scriptsConfigMap } },
      // Group-readable: the kubelet gives secret files to root and the pod's fsGroup.
      { name: "tenant", secret: { secretName: args.passwordSecret, defaultMode: 0o440 } },
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
    ],
  };
}

/** The named job script and the credentials helper it sources, as ConfigMap data. */
export function jobScripts(script: string): Record<string, string> {
  return Object.fromEntries([script, "credentials.sh"].map((f) => [f, readFileSync(projectFile(`scripts/${f}`), "utf8")]));
}

/** The drill's container that runs the tenant's image: the amazon-eks-pod-identity-webhook must skip it. */
export const DRILL_TENANT_CONTAINER = "registry";

/**
 * The restore drill's pod. The tools image prepares (fetches, checks, restores as a per-drill role)
 * and finishes (drops, records) with the master secret and the drill's IAM role; the tenant's own Odoo
 * image only loads Odoo's registry, with the drill role's password and nothing else. IRSA gives the
 * role's token to every container of a pod unless the pod names it in eks.amazonaws.com/skip-containers
 * (https://github.com/aws/amazon-eks-pod-identity-webhook#usage); the master's password stays in the
 * tools image's memory, and the state the finish phase acts on in a volume the tenant's image never mounts.
 */
export function drillPod(args: { readonly tools: ReturnType<typeof provisionerPod>; readonly odooImage: string; readonly env: Record<string, pulumi.Input<string>>; readonly pushSecret: string }) {
  const [tools] = args.tools.containers;
  const shared = { name: "drill", mountPath: "/drill" };
  const state = { name: "drill-state", mountPath: "/drill-state" };
  // The tools image's phases record the result with the drill's push credential, which the proxy admits
  // to this tenant's drill key only; the tenant image's container gets none.
  const push = { name: "push", mountPath: "/secrets/push", readOnly: true };
  const phase = (name: string) => ({
    ...tools!,
    name,
    env: [...tools!.env.filter((e) => e.name !== "TENANT_PASSWORD_FILE"), { name: "DRILL_PHASE", value: name }, { name: "STATE_DIR", value: state.mountPath }, { name: "PUSHGATEWAY_NETRC", value: `${push.mountPath}/netrc` }],
    volumeMounts: [...tools!.volumeMounts.filter((m) => m.name !== "tenant"), shared, state, push],
  });
  return {
    ...args.tools,
    restartPolicy: "Never",
    initContainers: [phase("prepare")],
    containers: [
      {
        name: DRILL_TENANT_CONTAINER,
        image: args.odooImage,
        imagePullPolicy: "Always",
        command: ["/bin/sh", "/scripts/restore-drill.sh"],
        env: [...Object.entries(args.env).map(([name, value]) => ({ name, value })), { name: "DRILL_PHASE", value: "registry" }],
        // Loading the registry of a large database takes more than a provisioning job.
        resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
        securityContext: tools!.securityContext,
        // Its own /tmp: the tools image's phases keep theirs.
        volumeMounts: [{ name: "scripts", mountPath: "/scripts", readOnly: true }, { name: "registry-tmp", mountPath: "/tmp" }, shared],
      },
      phase("finish"),
    ],
    // The drill needs no tenant password: the provisioner's secret volume is not mounted.
    volumes: [
      ...args.tools.volumes.filter((v) => v.name !== "tenant"),
      { name: "drill", emptyDir: { sizeLimit: "50Gi" } },
      { name: "drill-state", emptyDir: { sizeLimit: "1Mi" } },
      { name: "registry-tmp", emptyDir: { sizeLimit: "1Gi" } },
      { name: "push", secret: { secretName: args.pushSecret, defaultMode: 0o440 } },
    ],
  };
}

/** The server, as the jobs that connect with the master credentials see it. */
function masterConnection(job: PlatformJobInput) {
  return {
    PGHOST: job.database.host,
    PGPORT: String(job.database.port),
    PGSSLMODE: "require",
    AWS_REGION: job.provisioner.region,
    MASTER_SECRET_ARN: job.provisioner.masterSecretArn,
  };
}

/** What every platform job's pod shares: the tools image, the scripts, the tenant's password secret. */
function platformJob(job: PlatformJobInput, script?: string) {
  return {
    image: job.provisioner.image,
    scriptsConfigMap: job.provisioner.scriptsConfigMap,
    passwordSecret: provisionerPasswordSecret(job.tenant),
    nodeSelector: job.provisioner.nodeSelector,
    ...(script ? { script } : {}),
  };
}

/** The Secret in the platform namespace holding the drill's Pushgateway credential (netrc), bound to this tenant. */
export function drillPushSecret(tenant: string): string {
  return `${tenant}-push`;
}

/** The Secret in the platform namespace holding the tenant's database password for its jobs. */
export function provisionerPasswordSecret(tenant: string): string {
  return `${tenant}-db`;
}

/** The Job creating the tenant's database and role, its connections capped at the sizing's peak. */
export function provisionDbJob(job: PlatformJobInput, peakConnections: number) {
  const { database, role } = tenantDatabase(job.tenant);
  const labels = { ...PROVISIONER_LABELS, tenant: job.tenant };
  return {
    metadata: { namespace: job.provisioner.namespace, labels },
    spec: {
      backoffLimit: 6,
      activeDeadlineSeconds: 900,
      template: {
        metadata: { labels },
        spec: provisionerPod({
          ...platformJob(job),
          serviceAccount: job.provisioner.serviceAccount,
          env: { ...masterConnection(job), TENANT_ROLE: role, TENANT_DB: database, TENANT_CONNECTION_LIMIT: String(peakConnections) },
        }),
      },
    },
  };
}

/**
 * The restore drill: fetch the newest backup, restore it into a scratch database as a per-drill role
 * and load Odoo on it, within the tier's region-loss RTO. Only the master may create that role and
 * database, so it runs in the platform namespace, never in the tenant's.
 */
export function restoreDrillCronJob(job: PlatformJobInput, odooImage: string, backup: RestoreDrillSettings) {
  const tier = TIERS[job.tier];
  // A restore from backups is the region-loss path: it must fit that RTO.
  const rtoSeconds = String(tier.rtoMinutes.regionLost * 60);
  const labels = { ...RESTORE_DRILL_LABELS, ...tenantLabels(job.tenant, job.tier) };
  return {
    metadata: { name: `drill-${job.tenant}`, namespace: job.provisioner.namespace, labels },
    spec: {
      schedule: drillSchedule(job.tenant, tier.restoreDrillEveryDays),
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: 1,
          activeDeadlineSeconds: 6 * 3600,
          template: {
            metadata: { labels, annotations: { [IRSA_SKIP_CONTAINERS]: DRILL_TENANT_CONTAINER } },
            spec: drillPod({
              pushSecret: drillPushSecret(job.tenant),
              tools: provisionerPod({
                ...platformJob(job, "restore-drill.sh"),
                serviceAccount: backup.drill.serviceAccount,
                env: {
                  ...masterConnection(job),
                  BACKUP_BUCKET: backup.bucketName,
                  BACKUP_PREFIX: tenantBackupPrefix(job.tenant),
                  TENANT: job.tenant,
                  RTO_SECONDS: rtoSeconds,
                  DRILL_DIR: "/drill",
                  REGISTRY_CHECK: "odoo",
                  PUSHGATEWAY_URL: backup.pushgatewayUrl,
                },
              }),
              odooImage,
              // The tenant's image: where the server is and where the drill left its files; no credentials.
              env: {
                PGHOST: job.database.host,
                PGPORT: String(job.database.port),
                PGSSLMODE: "require",
                TENANT: job.tenant,
                RTO_SECONDS: rtoSeconds,
                DRILL_DIR: "/drill",
              },
            }),
          },
        },
      },
    },
  };
}
