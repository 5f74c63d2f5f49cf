/**
 * The tenant's logical backup: a CronJob in its namespace that dumps the database and the filestore to
 * its prefix of the backup bucket, through an IAM role that may write there and nowhere else. Also the
 * schedules of backups and restore drills.
 */
import { JOB_POD_RESOURCES } from "../../tiers/sizing";
import { TIERS } from "../../tiers/catalogue";
import { BACKUP_OBJECT_TIER_TAG, tenantLabels } from "../../model/tags";
import { ODOO_COMPONENT_LABEL } from "../../model/kubernetes";
import { tenantBackupPrefix } from "../data/backup-bucket";
import { ODOO_DATA_DIR } from "./odoo-conf";
import { containerResources, PRIORITY_CLASSES, RESTRICTED_CONTAINER, restrictedPod } from "./pod-spec";
import { internetPeer, networkPolicy } from "./guard-rails";
import { tenantObjectMeta, type BackupJobInput, type Manifest, type TenantManifestInput } from "./manifest-input";
import * as pulumi from "@pulumi/pulumi";
import { PUSH_PROXY_PORT, pushUser } from "../../model/edge";

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

/** The tenant's backup role may write and read its own prefix of the backup bucket, nothing else. */
export function tenantBackupPolicy(tenant: string, bucketArn: string, keyArn: string) {
  const prefix = tenantBackupPrefix(tenant);
  return {
    Version: "2012-10-17",
    Statement: [
      // What backup-tenant.sh calls: `aws s3 cp` (PutObject, multipart above 8 MiB, aborted on failure)
      // and put-object-tagging (the tier whose lifecycle rule expires it). Write-only: the drill reads.
      { Effect: "Allow", Action: ["s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"], Resource: `${bucketArn}/${prefix}*` },
      // SSE-KMS uploads: GenerateDataKey per object, Decrypt to complete a multipart upload; through S3 only.
      { Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: keyArn, Condition: { StringLike: { "kms:ViaService": "s3.*.amazonaws.com" } } },
    ],
  };
}

/** The backup job runs only with both its settings and the role its service account assumes. */
function backupSettings(input: TenantManifestInput): BackupJobInput | undefined {
  return input.backup && input.backupRoleArn ? input.backup : undefined;
}

/**
 * The job's Pushgateway credential as a netrc file curl reads (`--netrc-file`): user `backup-<tenant>`,
 * which the proxy admits to this tenant's backup grouping key only.
 */
function pushCredentials(input: TenantManifestInput, b: BackupJobInput): Manifest {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: tenantObjectMeta(input, "pushgateway-credentials"),
    type: "Opaque",
    stringData: { netrc: pushNetrc(b.pushgatewayUrl, pushUser("odoo_backup", input.tenant), b.pushPassword) },
  };
}

/** A netrc file with one Pushgateway credential, for `curl --netrc-file` (the password stays off the command line). */
export function pushNetrc(pushgatewayUrl: string, user: string, password: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.secret(pulumi.interpolate`machine ${new URL(pushgatewayUrl).hostname} login ${user} password ${password}\n`);
}

/** The backup CronJob, the ConfigMap holding its script, and its push credential. @returns undefined without backups */
export function backupJob(input: TenantManifestInput): { scripts: Manifest; pushCredentials: Manifest; cronJob: Manifest } | undefined {
  const b = backupSettings(input);
  if (!b) return undefined;
  return {
    scripts: { apiVersion: "v1", kind: "ConfigMap", metadata: tenantObjectMeta(input, "odoo-scripts"), data: { ...b.scripts } },
    pushCredentials: pushCredentials(input, b),
    cronJob: {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: tenantObjectMeta(input, "odoo-backup", { app: "odoo-backup" }),
      spec: {
        schedule: backupSchedule(input.tenant, TIERS[input.tier].logicalBackup.everyHours),
        timeZone: "Etc/UTC",
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: 1800,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: { spec: { backoffLimit: 2, activeDeadlineSeconds: 4 * 3600, template: backupPod(input, b) } },
      },
    },
  };
}

function backupPod(input: TenantManifestInput, b: BackupJobInput) {
  return {
    metadata: { labels: { app: "odoo-backup", [ODOO_COMPONENT_LABEL]: "odoo", ...tenantLabels(input.tenant, input.tier) } },
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
          env: backupEnv(input, b),
          resources: containerResources(JOB_POD_RESOURCES),
          securityContext: RESTRICTED_CONTAINER,
          volumeMounts: [
            { name: "scripts", mountPath: "/scripts", readOnly: true },
            { name: "db-password", mountPath: "/secrets/db", readOnly: true },
            { name: "push-credentials", mountPath: "/secrets/push", readOnly: true },
            { name: "filestore", mountPath: ODOO_DATA_DIR, readOnly: true },
            { name: "tmp", mountPath: "/tmp" },
          ],
        },
      ],
      volumes: [
        { name: "scripts", configMap: { name: "odoo-scripts" } },
        { name: "db-password", secret: { secretName: "odoo-db", items: [{ key: "password", path: "password" }], defaultMode: 0o440 } },
        { name: "push-credentials", secret: { secretName: "pushgateway-credentials", items: [{ key: "netrc", path: "netrc" }], defaultMode: 0o440 } },
        { name: "filestore", persistentVolumeClaim: { claimName: "filestore", readOnly: true } },
        { name: "tmp", emptyDir: { sizeLimit: "20Gi" } },
      ],
    },
  };
}

/** backup-tenant.sh's settings: it connects as the tenant's own role, with its password as a file. */
function backupEnv(input: TenantManifestInput, b: BackupJobInput) {
  return [
    { name: "PGHOST", value: b.database.host },
    { name: "PGPORT", value: String(b.database.port) },
    { name: "PGUSER", value: b.database.role },
    { name: "PGDATABASE", value: b.database.name },
    { name: "PGSSLMODE", value: "require" },
    { name: "PGPASSWORD_FILE", value: "/secrets/db/password" },
    { name: "FILESTORE_DIR", value: ODOO_DATA_DIR },
    { name: "BACKUP_BUCKET", value: b.bucketName },
    { name: "BACKUP_PREFIX", value: tenantBackupPrefix(input.tenant) },
    { name: "BACKUP_TIER_TAG", value: `${BACKUP_OBJECT_TIER_TAG}=${input.tier}` },
    { name: "TENANT", value: input.tenant },
    { name: "AWS_REGION", value: b.region },
    { name: "PUSHGATEWAY_URL", value: b.pushgatewayUrl },
    { name: "PUSHGATEWAY_NETRC", value: "/secrets/push/netrc" },
  ];
}

/** The backup job's egress, when it runs: AWS on HTTPS and the Pushgateway. */
export function backupNetworkPolicies(input: TenantManifestInput): Manifest[] {
  if (!backupSettings(input)) return [];
  return [
    networkPolicy(input, "allow-backup-egress", {
      podSelector: { matchLabels: { app: "odoo-backup" } },
      policyTypes: ["Egress"],
      egress: [
        // S3 (through the VPC's gateway endpoint) and STS for the role's web identity.
        { to: [internetPeer(input)], ports: [{ protocol: "TCP", port: 443 }] },
        { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus-pushgateway" } } }], ports: [{ protocol: "TCP", port: PUSH_PROXY_PORT }] },
      ],
    }),
  ];
}
