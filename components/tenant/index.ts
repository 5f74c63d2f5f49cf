import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { serviceAccountRole } from "../irsa";
import * as random from "@pulumi/random";
import { sizeOdoo, tenantQuota } from "../../tiers/sizing";
import type { Environment } from "../../model/stack";
import type { TierName } from "../../tiers/catalogue";
import { tenantBackupPrefix } from "../data/backup-bucket";
import { withName } from "../tagging";
import { createObject } from "./k8s-objects";
import { drillSchedule, RESTRICTED_CONTAINER, restrictedPod, tenantDatabase, tenantManifests, type Manifest } from "./manifests";
import { tenantNamespace } from "../../model/kubernetes";
import { TIERS } from "../../tiers/catalogue";
import { readFileSync } from "node:fs";
import { projectFile } from "./project-files";
import { cronOdooConf, webOdooConf } from "./odoo-conf";
import { PROVISIONER_LABELS } from "./platform";

export interface OdooTenantArgs {
  tenant: {
    name: string;
    tier: TierName;
    domains: readonly string[];
    odoo: { image: string };
    expectedUsers: number;
    egress: { https: boolean; smtp: boolean };
  };
  environment: Environment;
  /** Shared pool, or the tenant's dedicated pool with the toleration for its taint. */
  scheduling: { nodeSelector: Record<string, string>; tolerations: Record<string, string>[] };
  vpcCidr: string;
  dataCidrs: readonly string[];
  database: { host: pulumi.Input<string>; port: number };
  /** Sessions in Valkey through the tenant's ACL user. @default none: sessions stay in the filestore (review stacks) */
  redis?: { host: pulumi.Input<string>; port: number; userName: string; password: pulumi.Input<string>; keyPrefix: string };
  filestore: { fileSystemId: pulumi.Input<string>; accessPointId: pulumi.Input<string>; posixId: number };
  /** The backup bucket and the cluster identity its backup role trusts. @default none (review stacks keep no backups) */
  backup?: {
    bucketArn: pulumi.Input<string>;
    bucketName: pulumi.Input<string>;
    kmsKeyArn: pulumi.Input<string>;
    oidcProviderArn: pulumi.Input<string>;
    oidcIssuerUrl: pulumi.Input<string>;
    /** Where backup and drill jobs record their results. */
    pushgatewayUrl: string;
    /** The restore drill, run from the platform namespace with a role that may create databases. */
    drill: { serviceAccount: string };
  };
  provisioner: {
    /** Node selector of the platform's own pool. */
    nodeSelector: Record<string, string>;
    namespace: string;
    serviceAccount: string;
    scriptsConfigMap: string;
    image: string;
    masterSecretArn: pulumi.Input<string>;
    region: pulumi.Input<string>;
  };
  /** AWS tags of the tenant's IAM role. */
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
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

/**
 * One Odoo tenant: its namespace with quota, limits and default-deny network policies; its own
 * database, cache user, filestore access point and backup role; Odoo web and cron Deployments sized
 * from its users within its tier; TLS routes for its domains through Traefik.
 */
export class OdooTenant extends pulumi.ComponentResource {
  public readonly namespace: string;
  public readonly manifests: ReturnType<typeof tenantManifests>;

  constructor(name: string, args: OdooTenantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("odoo-fleet:tenants:OdooTenant", name, {}, opts);
    const t = args.tenant;
    const ns = tenantNamespace(t.name);
    const sizing = sizeOdoo(t, args.environment);
    const quota = tenantQuota(t, args.environment);
    const { database, role } = tenantDatabase(t.name);
    const filestoreVolume = `${ns}-filestore`;
    this.namespace = ns;

    const backup = args.backup;
    let backupRoleArn: pulumi.Output<string> | undefined;
    if (backup) {
      const backupRole = serviceAccountRole(`${name}-backup`, {
        oidcProviderArn: backup.oidcProviderArn,
        oidcIssuerUrl: backup.oidcIssuerUrl,
        namespace: ns,
        serviceAccount: "odoo-backup",
        tags: withName(pulumi.output(args.tags).apply((tags) => ({ ...tags, tenant: t.name, tier: t.tier })), `${name}-backup`),
        policy: pulumi.all([backup.bucketArn, backup.kmsKeyArn]).apply(([bucket, key]) => JSON.stringify(tenantBackupPolicy(t.name, bucket, key))),
      }, { parent: this });
      backupRoleArn = backupRole.arn;
    }

    this.manifests = tenantManifests({
      tenant: t.name,
      tier: t.tier,
      domains: t.domains,
      image: t.odoo.image,
      sizing,
      quota,
      posixId: args.filestore.posixId,
      scheduling: args.scheduling,
      dataCidrs: args.dataCidrs,
      vpcCidr: args.vpcCidr,
      egress: t.egress,
      ...(args.redis ? { redis: { host: args.redis.host, port: args.redis.port, keyPrefix: args.redis.keyPrefix } } : {}),
      filestoreVolume,
      ...(backupRoleArn ? { backupRoleArn } : {}),
      ...(backup
        ? {
            backup: {
              image: args.provisioner.image,
              bucketName: backup.bucketName,
              database: { host: args.database.host, port: args.database.port, name: database, role },
              region: args.provisioner.region,
              pushgatewayUrl: backup.pushgatewayUrl,
              scripts: jobScripts("backup-tenant.sh"),
            },
          }
        : {}),
    });
    const m = this.manifests;

    const namespace = createObject(`${name}-namespace`, m.namespace, { parent: this });
    const inNs = { parent: this, dependsOn: [namespace] };
    const isolation = [m.resourceQuota, m.limitRange, ...m.networkPolicies, ...m.serviceAccounts].map((o) => createObject(`${name}-${o.kind.toLowerCase()}-${o.metadata.name}`, o, inNs));

    const password = (purpose: string) => new random.RandomPassword(`${name}-${purpose}`, { length: 40, special: false }, { parent: this });
    const dbPassword = password("db");
    const secret = (secretName: string, data: Record<string, pulumi.Input<string>>, namespaceName = ns, deps: pulumi.Resource[] = [namespace]) =>
      new k8s.core.v1.Secret(`${name}-secret-${namespaceName === ns ? "" : "system-"}${secretName}`, {
        metadata: { name: secretName, namespace: namespaceName, labels: { tenant: t.name, tier: t.tier } },
        type: "Opaque",
        stringData: data,
      }, { parent: this, dependsOn: deps });
    const secrets = [
      secret("odoo-db", { password: dbPassword.result }),
      secret("odoo-admin", { password: password("admin").result }),
      ...(args.redis
        ? [
            secret("odoo-redis", {
              password: args.redis.password,
              url: pulumi.interpolate`rediss://${args.redis.userName}:${args.redis.password}@${args.redis.host}:${args.redis.port}/0`,
            }),
          ]
        : []),
    ];

    const confInput = pulumi.output(args.database.host).apply((dbHost) => ({ database, dbUser: role, dbHost, dbPort: args.database.port, sizing }));
    const config = createObject(`${name}-configmap-odoo-conf`, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "odoo-conf", namespace: ns, labels: { tenant: t.name, tier: t.tier } },
      data: { "web.conf": confInput.apply(webOdooConf), "cron.conf": confInput.apply(cronOdooConf) },
    }, inNs);

    // The filestore: an EFS access point, bound to this tenant's claim alone through claimRef.
    const volume = new k8s.core.v1.PersistentVolume(`${name}-filestore`, {
      metadata: { name: filestoreVolume, labels: { tenant: t.name, tier: t.tier } },
      spec: {
        capacity: { storage: `${quota.storageGiB}Gi` },
        volumeMode: "Filesystem",
        accessModes: ["ReadWriteMany"],
        persistentVolumeReclaimPolicy: "Retain",
        storageClassName: "",
        mountOptions: ["tls"],
        csi: { driver: "efs.csi.aws.com", volumeHandle: pulumi.interpolate`${args.filestore.fileSystemId}::${args.filestore.accessPointId}` },
        claimRef: { namespace: ns, name: "filestore" },
      },
    }, { parent: this });
    const claim = createObject(`${name}-pvc-filestore`, m.persistentVolumeClaim, { parent: this, dependsOn: [namespace, volume] });

    // The server, as the jobs that connect with the master credentials see it.
    const masterConnection = {
      PGHOST: args.database.host,
      PGPORT: String(args.database.port),
      PGSSLMODE: "require",
      AWS_REGION: args.provisioner.region,
      MASTER_SECRET_ARN: args.provisioner.masterSecretArn,
    };
    const platformJob = (script?: string) => ({
      image: args.provisioner.image,
      scriptsConfigMap: args.provisioner.scriptsConfigMap,
      passwordSecret: `${t.name}-db`,
      nodeSelector: args.provisioner.nodeSelector,
      ...(script ? { script } : {}),
    });

    // The database and role, created in the cluster by a Job that alone sees the master secret.
    const provisionerSecret = secret(`${t.name}-db`, { password: dbPassword.result }, args.provisioner.namespace, []);
    const job = new k8s.batch.v1.Job(`${name}-provision-db`, {
      metadata: { namespace: args.provisioner.namespace, labels: { ...PROVISIONER_LABELS, tenant: t.name } },
      spec: {
        backoffLimit: 6,
        activeDeadlineSeconds: 900,
        template: {
          metadata: { labels: { ...PROVISIONER_LABELS, tenant: t.name } },
          spec: provisionerPod({
            ...platformJob(),
            serviceAccount: args.provisioner.serviceAccount,
            env: {
              ...masterConnection,
              TENANT_ROLE: role,
              TENANT_DB: database,
              TENANT_CONNECTION_LIMIT: String(sizing.peakConnections),
            },
          }),
        },
      },
    }, { parent: this, dependsOn: [provisionerSecret] });

    const workloadDeps = [namespace, ...isolation, ...secrets, config, claim, job];
    const workloads = [m.web, m.cron, m.service, ...(m.podDisruptionBudget ? [m.podDisruptionBudget] : []), ...(m.horizontalPodAutoscaler ? [m.horizontalPodAutoscaler] : [])].map((o) =>
      createObject(`${name}-${o.kind.toLowerCase()}-${o.metadata.name}`, o, { parent: this, dependsOn: workloadDeps }),
    );
    if (m.backupJob) {
      const scripts = createObject(`${name}-configmap-odoo-scripts`, m.backupJob.scripts, inNs);
      createObject(`${name}-cronjob-odoo-backup`, m.backupJob.cronJob, { parent: this, dependsOn: [...workloadDeps, scripts] });
    }
    if (backup) {
      // The drill restores into a scratch database: only the master may create one, so it runs in the
      // platform namespace, never in the tenant's.
      new k8s.batch.v1.CronJob(`${name}-restore-drill`, {
        metadata: { name: `drill-${t.name}`, namespace: args.provisioner.namespace, labels: { app: "restore-drill", tenant: t.name, tier: t.tier } },
        spec: {
          schedule: drillSchedule(t.name, TIERS[t.tier].restoreDrillEveryDays),
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
                metadata: { labels: { app: "restore-drill", tenant: t.name, tier: t.tier } },
                spec: drillPod({
                  fetch: provisionerPod({
                    ...platformJob("restore-drill.sh"),
                    serviceAccount: backup.drill.serviceAccount,
                    env: {
                      ...masterConnection,
                      BACKUP_BUCKET: backup.bucketName,
                      BACKUP_PREFIX: `tenants/${t.name}/`,
                      TENANT: t.name,
                      RTO_SECONDS: String(TIERS[t.tier].rtoMinutes.regionLost * 60),
                      DRILL_PHASE: "fetch",
                      DRILL_DIR: "/drill",
                      PUSHGATEWAY_URL: backup.pushgatewayUrl,
                    },
                  }),
                  odooImage: t.odoo.image,
                  env: {
                    PGHOST: args.database.host,
                    PGPORT: String(args.database.port),
                    PGSSLMODE: "require",
                    TENANT: t.name,
                    // A restore from backups is the region-loss path: it must fit that RTO.
                    RTO_SECONDS: String(TIERS[t.tier].rtoMinutes.regionLost * 60),
                    DRILL_PHASE: "restore",
                    DRILL_DIR: "/drill",
                    REGISTRY_CHECK: "odoo",
                    PUSHGATEWAY_URL: backup.pushgatewayUrl,
                  },
                }),
              },
            },
          },
        },
      }, { parent: this, dependsOn: [job] });
    }
    const edge: Manifest[] = [m.certificate, ...m.middlewares, ...m.ingressRoutes];
    edge.map((o) => createObject(`${name}-${o.kind.toLowerCase()}-${o.metadata.name}`, o, { parent: this, dependsOn: [namespace, ...workloads] }));

    this.registerOutputs({ namespace: this.namespace });
  }
}

/** The provisioning Job's pod: restricted, its script from the ConfigMap, the password as a file. */
export function provisionerPod(args: {
  image: string;
  serviceAccount: string;
  scriptsConfigMap: string;
  passwordSecret: string;
  nodeSelector: Record<string, string>;
  env: Record<string, pulumi.Input<string>>;
  /** @default "provision-tenant-db.sh" */
  script?: string;
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

/**
 * The restore drill's pod: the tools image fetches and checks the newest backup (it has the AWS CLI and
 * the role), then the tenant's own Odoo image restores it and loads Odoo's registry on it.
 */
export function drillPod(args: { fetch: ReturnType<typeof provisionerPod>; odooImage: string; env: Record<string, pulumi.Input<string>> }) {
  const [fetch] = args.fetch.containers;
  const shared = { name: "drill", mountPath: "/drill" };
  return {
    ...args.fetch,
    restartPolicy: "Never",
    initContainers: [{ ...fetch!, name: "fetch", volumeMounts: [...fetch!.volumeMounts, shared] }],
    containers: [
      {
        name: "restore",
        image: args.odooImage,
        imagePullPolicy: "Always",
        command: ["/bin/sh", "/scripts/restore-drill.sh"],
        env: Object.entries(args.env).map(([name, value]) => ({ name, value })),
        // Restoring a large database and loading the registry take more than a provisioning job.
        resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
        securityContext: fetch!.securityContext,
        volumeMounts: [{ name: "scripts", mountPath: "/scripts", readOnly: true }, { name: "tmp", mountPath: "/tmp" }, shared],
      },
    ],
    volumes: [...args.fetch.volumes, { name: "drill", emptyDir: { sizeLimit: "50Gi" } }],
  };
}
