import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../components/cluster";
import { BACKUP_REPLICATION_RULE, BackupBucket } from "../components/data/backup-bucket";
import { BackupVault } from "../components/data/backup-vault";
import { BACKUP_TIER_TAG, type Tags } from "../model/tags";
import { Filestore } from "../components/data/filestore";
import { PostgresServer, type PostgresDrArgs } from "../components/data/postgres";
import { Valkey } from "../components/data/valkey";
import { DEDICATED_KEY, POOL_LABEL } from "../model/node-pools";
import { dataShardId, tenantPosixId } from "../model/naming";
import { Ingress } from "../components/ingress";
import { Network } from "../components/network";
import { RunnerLink } from "../components/network/runner-link";
import { CiPreviewRbac } from "../components/cluster/ci-rbac";
import { Monitoring, PUSHGATEWAY_URL } from "../components/observability";
import { AwsAlarms } from "../components/observability/aws-alarms";
import { OdooTenant } from "../components/tenant";
import { TenantPlatform } from "../components/tenant/platform";
import { dataTierPlan, type DataTierPlan } from "../spec/data-tier";
import { systemPoolOf, type DataShardSpec, type PlatformSpec } from "../spec/index";
import { eksVersion, TIERS } from "../tiers/catalogue";
import { platformTags, tenantTags } from "../model/tags";
import { BREAK_GLASS_ROLE_NAME, roleArnBesides } from "../model/ci";
import type { KeyAdministration } from "../components/data/keys";

/**
 * Composes a stack from its validated spec. Components receive plain values and Inputs; none of
 * them reads configuration itself. The steps run in this order, which is the order the resources
 * are registered in.
 */
export async function buildPlatform(spec: PlatformSpec) {
  const site = siteOf(spec);
  const network = primaryNetwork(site);
  const cluster = primaryCluster(site, network);
  const standby = warmStandby(site);
  const inCluster = { providers: { aws: site.primary, kubernetes: cluster.provider } };
  new CiPreviewRbac(spec.stack, {}, inCluster);
  // Observability first: the data stores send their events to its topics.
  const monitoring = monitoringOf(site, cluster, inCluster);
  const dataPlacement = { vpcId: network.vpcId, subnetIds: network.isolatedSubnetIds, clientSecurityGroupIds: [cluster.clusterSecurityGroupId] };
  const shards = dataShards(site, dataPlacement, monitoring, standby);
  const filestore = tenantFilestore(site, network, dataPlacement, cluster);
  const { backups, vault } = backupStores(site);
  // The edge and the tenants, in the cluster, through its Kubernetes provider.
  const ingress = ingressOf(site, monitoring, inCluster);
  const dataCidrs = network.layout.map((z) => z.isolated);
  const tenantPlatform = tenantPlatformOf(site, { cluster, shards, dataCidrs }, inCluster);
  awsAlarms(site, { monitoring, standby, shards, backups });
  await tenants(site, { cluster, shards, filestore, backups, dataCidrs, ingress, tenantPlatform, pushPasswords: monitoring.pushPasswords, inCluster });
  return platformOutputs(site, { network, cluster, standby, monitoring, shards, filestore, backups, vault, dataCidrs });
}

/** What every step shares: the spec, the data tier's plan, the tags and the AWS providers. */
interface Site {
  readonly spec: PlatformSpec;
  readonly plan: DataTierPlan;
  readonly tags: Tags;
  /** Tags of the data stores: a dedicated stack's carry its tenant, all the backup tier. */
  readonly dataTags: Tags;
  readonly primary: aws.Provider;
  readonly inPrimary: { readonly providers: { readonly aws: aws.Provider } };
  /** The DR region's provider, where the stack copies anything there. */
  readonly dr: aws.Provider | undefined;
  readonly systemPool: string;
  /** Who administers every KMS key of the stack: its CI deploy role; the break-glass role alone deletes. */
  readonly keyAdministration: KeyAdministration;
}

/** Where the data stores live: the isolated subnets, reachable from the cluster only. */
interface DataPlacement {
  readonly vpcId: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string>[];
  readonly clientSecurityGroupIds: pulumi.Input<string>[];
}
type Standby = { readonly network: Network; readonly cluster: Cluster } | undefined;
type InCluster = { readonly providers: { readonly aws: aws.Provider; readonly kubernetes: Cluster["provider"] } };
interface DataShard {
  readonly shard: DataShardSpec;
  readonly id: string;
  readonly postgres: PostgresServer;
  readonly valkey: Valkey;
}

function siteOf(spec: PlatformSpec): Site {
  const tags = platformTags(spec);
  const plan = dataTierPlan(spec);
  // Every AWS resource goes through an explicit provider, never the ambient default one, so the
  // region a resource lands in is always the one the spec names.
  const primary = new aws.Provider("primary", { region: spec.region as aws.Region, defaultTags: { tags } });
  const dr = plan.needsDrProvider ? new aws.Provider("dr", { region: spec.drRegion as aws.Region, defaultTags: { tags } }) : undefined;
  // Shared data stores serve every tenant of the stack; a dedicated stack's serve its one tenant.
  const dedicatedTenant = spec.kind === "dedicated" ? spec.tenants[0] : undefined;
  const dataTags = { ...(dedicatedTenant ? tenantTags(tags, dedicatedTenant) : tags), [BACKUP_TIER_TAG]: plan.strictestTier };
  const keyAdministration = { administratorArns: [spec.ci.deployRoleArn], breakGlassRoleArn: roleArnBesides(spec.ci.deployRoleArn, BREAK_GLASS_ROLE_NAME) };
  return { spec, plan, tags, dataTags, primary, inPrimary: { providers: { aws: primary } }, dr, systemPool: systemPoolOf(spec.cluster), keyAdministration };
}

/** Tags of the node pools dedicated to a tenant: the tenant's, so its nodes' cost is its own. */
function dedicatedPoolTags(spec: Pick<PlatformSpec, "cluster" | "tenants">): Record<string, Tags> {
  const tenantsByName = new Map(spec.tenants.map((t) => [t.name, t]));
  const poolTags: Record<string, Tags> = {};
  for (const pool of spec.cluster.nodePools) {
    const tenant = pool.dedicatedTo === undefined ? undefined : tenantsByName.get(pool.dedicatedTo);
    if (tenant) poolTags[pool.name] = tenantTags({}, tenant);
  }
  return poolTags;
}

/** What the primary cluster and the standby share: add-on builds, CI access, pool tags. */
function clusterCommon(spec: PlatformSpec) {
  return {
    // The spec accepts only versions whose add-on builds the calendar pins.
    addonVersions: eksVersion(spec.cluster.kubernetesVersion)?.addons ?? {},
    ci: { deployRoleArn: spec.ci.deployRoleArn, previewRoleArn: spec.ci.previewRoleArn },
    poolTags: dedicatedPoolTags(spec),
  };
}

function primaryNetwork({ spec, tags, inPrimary }: Site): Network {
  return new Network(spec.stack, {
    cidr: spec.network.cidr,
    zones: spec.zones,
    natGateways: spec.network.natGateways,
    flowLogRetentionDays: spec.network.flowLogRetentionDays,
    tags,
  }, inPrimary);
}

/** The EKS cluster, its private API endpoint reached by CI through the runner link. */
function primaryCluster({ spec, tags, inPrimary, keyAdministration }: Site, network: Network): Cluster {
  const { addonVersions, ci, poolTags } = clusterCommon(spec);
  // CI reaches the private API endpoint from the bootstrap stack's runners of this stack's label.
  const runnerLink = new RunnerLink(spec.stack, {
    vpcId: network.vpcId,
    cidr: spec.network.cidr,
    routeTables: network.zones.map((z, i) => ({ zone: z.zone, routeTableId: network.privateRouteTableIds[i]! })),
    runnerLabel: spec.ci.runnerLabel,
    runnerCidr: spec.ci.runnerCidr,
    tags,
  }, inPrimary);
  return new Cluster(spec.stack, {
    clusterName: spec.cluster.name,
    kubernetesVersion: spec.cluster.kubernetesVersion,
    addonVersions,
    subnets: network.zones.map((z) => ({ zone: z.zone, subnetId: z.privateSubnetId })),
    nodePools: spec.cluster.nodePools,
    ci,
    runnerCidrs: [spec.ci.runnerCidr],
    apiPath: runnerLink.ready,
    endpointPublicAccessCidrs: spec.cluster.endpointPublicAccessCidrs,
    logRetentionDays: spec.cluster.logRetentionDays,
    deletionProtection: spec.environment === "production",
    protect: spec.data.protect,
    keyAdministration,
    tags,
    poolTags,
  }, inPrimary);
}

/** A warm standby: network and a cluster in the DR region whose node groups idle at zero, ready to scale. */
function warmStandby({ spec, plan, tags, dr, keyAdministration }: Site): Standby {
  if (!(plan.warmStandby && dr && spec.dr.network)) return undefined;
  const { addonVersions, ci, poolTags } = clusterCommon(spec);
  const inDr = { providers: { aws: dr } };
  const network = new Network(`${spec.stack}-dr`, {
    cidr: spec.dr.network.cidr,
    zones: spec.dr.network.zones,
    natGateways: spec.network.natGateways,
    flowLogRetentionDays: spec.network.flowLogRetentionDays,
    tags,
  }, inDr);
  const cluster = new Cluster(`${spec.stack}-dr`, {
    clusterName: `${spec.cluster.name}-dr`,
    kubernetesVersion: spec.cluster.kubernetesVersion,
    addonVersions,
    subnets: network.zones.map((z) => ({ zone: z.zone, subnetId: z.privateSubnetId })),
    nodePools: plan.standbyNodePools,
    // Access entries now, so activating DR needs no access change; the runners get a network path
    // (cross-region peering) only with DR activation, which is a deliberate, reviewed change.
    ci,
    logRetentionDays: spec.cluster.logRetentionDays,
    deletionProtection: true,
    protect: spec.data.protect,
    keyAdministration,
    tags,
    poolTags,
  }, inDr);
  return { network, cluster };
}

function monitoringOf({ spec, tags, systemPool, keyAdministration }: Site, cluster: Cluster, inCluster: InCluster): Monitoring {
  return new Monitoring(spec.stack, {
    environment: spec.environment,
    zones: spec.zones.length,
    systemNodeSelector: { [POOL_LABEL]: systemPool },
    tenants: spec.tenants.map((t) => ({ name: t.name, tier: t.tier, domains: t.domains, queueJob: t.queueJob })),
    runbookBaseUrl: spec.observability.runbookBaseUrl,
    businessHoursTimeZone: spec.observability.businessHoursTimeZone,
    cluster: { oidcProviderArn: cluster.oidcProviderArn, oidcIssuerUrl: cluster.oidcIssuerUrl },
    region: spec.region,
    protect: spec.data.protect,
    keyAdministration,
    tags,
  }, inCluster);
}

/** One PostgreSQL server and one Valkey group per data shard; the first keeps the stack's own names. */
function dataShards(site: Site, placement: DataPlacement, monitoring: Monitoring, standby: Standby): DataShard[] {
  const { spec, dataTags, inPrimary, keyAdministration } = site;
  const tenantsByName = new Map(spec.tenants.map((t) => [t.name, t]));
  const drArgs = postgresDr(site, standby);
  return spec.data.shards.map((shard) => {
    const name = shard.name === undefined ? spec.stack : `${spec.stack}-${shard.name}`;
    const id = dataShardId(spec.cluster.name, shard.name);
    const tenants = shard.tenants.map((t) => tenantsByName.get(t)!);
    const postgres = new PostgresServer(name, {
      identifier: id,
      version: shard.postgres.version,
      instanceClass: shard.postgres.instanceClass,
      storageGiB: shard.postgres.storageGiB,
      maxStorageGiB: shard.postgres.maxStorageGiB,
      multiAz: shard.postgres.multiAz,
      backupRetentionDays: shard.postgres.backupRetentionDays,
      backupWindow: spec.data.backupWindow,
      maintenanceWindow: spec.data.maintenanceWindow,
      ...placement,
      logRetentionDays: spec.cluster.logRetentionDays,
      protect: spec.data.protect,
      ...(drArgs ? { dr: drArgs } : {}),
      keyAdministration,
      tags: dataTags,
    }, inPrimary);
    const valkey = new Valkey(name, {
      replicationGroupId: id,
      nodeType: shard.redis.nodeType,
      multiAz: shard.redis.multiAz,
      tenants: tenants.map((t) => ({ name: t.name, tier: t.tier })),
      ...placement,
      snapshotWindow: spec.data.backupWindow,
      maintenanceWindow: spec.data.maintenanceWindow,
      logRetentionDays: spec.cluster.logRetentionDays,
      // Failovers and other cache events go to the 24x7 topic.
      notificationTopicArn: monitoring.topics.critical,
      protect: spec.data.protect,
      keyAdministration,
      tags: dataTags,
    }, inPrimary);
    return { shard, id, postgres, valkey };
  });
}

/**
 * PostgreSQL's DR: replicated backups where the tiers ask for them, and a read replica in the warm
 * standby, which serves a dedicated stack, which has one shard only.
 */
function postgresDr({ plan, dr }: Site, standby: Standby): PostgresDrArgs | undefined {
  if (!dr || !(plan.postgres.replicateAutomatedBackups || standby)) return undefined;
  return {
    provider: dr,
    replicateAutomatedBackups: plan.postgres.replicateAutomatedBackups,
    ...(standby
      ? {
          readReplica: {
            vpcId: standby.network.vpcId,
            subnetIds: standby.network.isolatedSubnetIds,
            clientSecurityGroupIds: [standby.cluster.clusterSecurityGroupId],
          },
        }
      : {}),
  };
}

/** EFS for the tenants' filestores, one access point each. */
function tenantFilestore({ spec, plan, dr, dataTags, inPrimary, keyAdministration }: Site, network: Network, placement: DataPlacement, cluster: Cluster): Filestore {
  return new Filestore(spec.stack, {
    subnets: network.zones.map((z) => ({ zone: z.zone, subnetId: z.isolatedSubnetId })),
    vpcId: placement.vpcId,
    clientSecurityGroupIds: placement.clientSecurityGroupIds,
    // The CSI node plugin mounts with efs-utils, whose credential chain ends at the instance profile:
    // efs-csi-node-sa has no role of its own (the add-on's IRSA role trusts the controller's account
    // only), so mounts are signed by the node role, which tenant pods cannot reach (IMDSv2, one hop).
    mountRoleArns: [cluster.nodeRoleArn],
    tenants: spec.tenants.map((t) => ({ name: t.name, tier: t.tier })),
    ...(dr && plan.filestoreReplication ? { replication: { provider: dr, region: spec.drRegion } } : {}),
    protect: spec.data.protect,
    keyAdministration,
    tags: dataTags,
  }, inPrimary);
}

/** The tenants' backup bucket and the AWS Backup vault, each locked and copied to the DR region. */
function backupStores({ spec, plan, dr, dataTags, inPrimary, keyAdministration }: Site): { backups: BackupBucket; vault: BackupVault } {
  const backups = new BackupBucket(spec.stack, {
    lock: plan.objectLock,
    retention: plan.backupPlans.map(({ tier, keepDays }) => ({ tier, keepDays })),
    ...(dr ? { replication: { provider: dr, replicationTimeControl: plan.replicationTimeControl } } : {}),
    protect: spec.data.protect,
    keyAdministration,
    tags: dataTags,
  }, inPrimary);
  const vault = new BackupVault(spec.stack, {
    plans: plan.backupPlans,
    lockBounds: plan.vaultLock,
    complianceLock: plan.vaultComplianceLock,
    ...(dr ? { dr: { provider: dr } } : {}),
    protect: spec.data.protect,
    keyAdministration,
    tags: dataTags,
  }, inPrimary);
  return { backups, vault };
}

function ingressOf({ spec, systemPool }: Site, monitoring: Monitoring, inCluster: InCluster): Ingress {
  return new Ingress(spec.stack, {
    after: [monitoring.crds],
    replicas: spec.environment === "production" ? spec.zones.length : 2,
    acmeEmail: spec.ingress.acmeEmail,
    acmeServer: spec.ingress.acmeServer,
    systemNodeSelector: { [POOL_LABEL]: systemPool },
  }, inCluster);
}

/** What the tenants share in the cluster: the provisioner's access to every shard's master secret. */
function tenantPlatformOf({ spec, tags }: Site, parts: { cluster: Cluster; shards: readonly DataShard[]; dataCidrs: string[] }, inCluster: InCluster): TenantPlatform {
  const { cluster, shards, dataCidrs } = parts;
  return new TenantPlatform(spec.stack, {
    cluster,
    masterSecrets: shards.map((s) => ({ secretArn: s.postgres.masterUserSecretArn, keyArn: s.postgres.kmsKeyArn })),
    dataCidrs,
    tags,
  }, inCluster);
}

/** CloudWatch alarms on the data stores, the DR replica and backup replication, and multi-region checks. */
function awsAlarms({ spec, tags, dr, inPrimary, keyAdministration }: Site, parts: { monitoring: Monitoring; standby: Standby; shards: readonly DataShard[]; backups: BackupBucket }): void {
  const { monitoring, standby, shards, backups } = parts;
  // Tiers that check from more than one region get Route 53 health checks besides the in-cluster probes.
  const multiRegionTenants = spec.tenants.filter((t) => TIERS[t.tier].syntheticCheck.regions > 1);
  new AwsAlarms(spec.stack, {
    topics: monitoring.topics,
    metricNamespace: `OdooFleet/${spec.stack}`,
    ...(standby && dr
      ? { dr: { provider: dr, replicaIdentifier: `${spec.cluster.name}-dr`, maxLagSeconds: 300 } }
      : {}),
    ...(multiRegionTenants.length > 0
      ? {
          multiRegionChecks: {
            provider: new aws.Provider("us-east-1", { region: "us-east-1", defaultTags: { tags } }),
            tenants: multiRegionTenants.map((t) => ({ name: t.name, tier: t.tier, domains: t.domains })),
          },
        }
      : {}),
    dataStores: shards.map(({ shard, id }) => ({
      ...(shard.name === undefined ? {} : { shard: shard.name }),
      postgres: { identifier: id, maxConnections: shard.postgres.maxConnections, storageGiB: shard.postgres.storageGiB },
      cache: { replicationGroupId: id, multiAz: shard.redis.multiAz },
    })),
    ...(backups.replicaBucketName ? { replication: { sourceBucket: backups.bucketName, destinationBucket: backups.replicaBucketName, ruleId: BACKUP_REPLICATION_RULE } } : {}),
    keyAdministration,
    tags,
  }, { ...inPrimary, dependsOn: [...shards.flatMap((s) => [s.postgres, s.valkey]), backups] });
}

/** Each tenant's Odoo, on its pool, wired to its shard's PostgreSQL and Valkey, the filestore and the backups. */
async function tenants({ spec, tags, systemPool }: Site, parts: {
  cluster: Cluster;
  shards: readonly DataShard[];
  filestore: Filestore;
  backups: BackupBucket;
  dataCidrs: string[];
  ingress: Ingress;
  tenantPlatform: TenantPlatform;
  pushPasswords: Monitoring["pushPasswords"];
  inCluster: InCluster;
}): Promise<void> {
  const { cluster, filestore, backups, dataCidrs, ingress, tenantPlatform, inCluster } = parts;
  const shardOf = new Map(parts.shards.flatMap((s) => s.shard.tenants.map((t) => [t, s] as const)));
  for (const [index, tenant] of spec.tenants.entries()) {
    // Let the SDK serialize and send the previous tenant's registrations before declaring the next
    // one: declared all at once, a thousand tenants' ~40,000 registrations sit in memory together
    // (8 GiB and most of the time in garbage collection offline). This never waits on the engine.
    if (index > 0) await new Promise((resolve) => setImmediate(resolve));
    const dedicatedPool = spec.cluster.nodePools.find((p) => p.dedicatedTo === tenant.name);
    const data = shardOf.get(tenant.name)!;
    const cacheUser = data.valkey.users[tenant.name]!;
    const accessPoint = filestore.accessPoints[tenant.name]!;
    new OdooTenant(tenant.name, {
      tenant,
      environment: spec.environment,
      scheduling: dedicatedPool
        ? { nodeSelector: { [POOL_LABEL]: dedicatedPool.name }, tolerations: [{ key: DEDICATED_KEY, operator: "Equal", value: tenant.name, effect: "NoSchedule" }] }
        : { nodeSelector: { [POOL_LABEL]: spec.cluster.tenantPool }, tolerations: [] },
      vpcCidr: spec.network.cidr,
      dataCidrs,
      database: { host: data.postgres.address, port: data.postgres.port },
      redis: { host: data.valkey.primaryEndpoint, port: data.valkey.port, userName: cacheUser.userName, password: cacheUser.password, keyPrefix: cacheUser.keyPrefix },
      filestore: { fileSystemId: filestore.fileSystemId, accessPointId: accessPoint.id, posixId: tenantPosixId(tenant.name) },
      backup: {
        bucketArn: backups.bucketArn,
        bucketName: backups.bucketName,
        kmsKeyArn: backups.kmsKeyArn,
        oidcProviderArn: cluster.oidcProviderArn,
        oidcIssuerUrl: cluster.oidcIssuerUrl,
        pushgatewayUrl: PUSHGATEWAY_URL,
        pushPassword: parts.pushPasswords[tenant.name]!.odoo_backup,
        drillPushPassword: parts.pushPasswords[tenant.name]!.odoo_restore_drill,
        drill: { masterSecret: { secretArn: data.postgres.masterUserSecretArn, keyArn: data.postgres.kmsKeyArn } },
      },
      provisioner: {
        nodeSelector: { [POOL_LABEL]: systemPool },
        namespace: tenantPlatform.namespace,
        serviceAccount: tenantPlatform.serviceAccount,
        scriptsConfigMap: tenantPlatform.scriptsConfigMap,
        image: spec.platformImages.tools,
        masterSecretArn: data.postgres.masterUserSecretArn,
        region: spec.region,
      },
      tags,
    }, { ...inCluster, dependsOn: [...ingress.ready, ...tenantPlatform.ready] });
  }
}

/** The stack's outputs. Their keys are what operators and review stacks read: they keep their names. */
function platformOutputs({ spec, systemPool }: Site, parts: {
  network: Network;
  cluster: Cluster;
  standby: Standby;
  monitoring: Monitoring;
  shards: readonly DataShard[];
  filestore: Filestore;
  backups: BackupBucket;
  vault: BackupVault;
  dataCidrs: string[];
}) {
  const { network, cluster, standby, monitoring, shards, filestore, backups, vault, dataCidrs } = parts;
  const { postgres, valkey } = shards[0]!;
  return {
    region: spec.region,
    drRegion: spec.drRegion,
    environment: spec.environment,
    vpcId: network.vpcId,
    privateSubnetIds: pulumi.output(network.privateSubnetIds),
    isolatedSubnetIds: pulumi.output(network.isolatedSubnetIds),
    clusterName: cluster.clusterName,
    clusterEndpoint: cluster.endpoint,
    oidcProviderArn: cluster.oidcProviderArn,
    kubeconfig: cluster.kubeconfig,
    // What review stacks read from their host (program/review.ts).
    vpcCidr: spec.network.cidr,
    dataCidrs,
    tenantNodeSelector: { [POOL_LABEL]: spec.cluster.tenantPool },
    systemNodeSelector: { [POOL_LABEL]: systemPool },
    postgresAddress: postgres.address,
    postgresMasterSecretArn: postgres.masterUserSecretArn,
    redisEndpoint: valkey.primaryEndpoint,
    filestoreId: filestore.fileSystemId,
    backupBucket: backups.bucketName,
    alertTopics: monitoring.topics,
    backupVaultArn: vault.vaultArn,
    // Every data shard's endpoints, by shard (the first under "").
    dataShards: Object.fromEntries(shards.map((s) => [s.shard.name ?? "", { postgresAddress: s.postgres.address, redisEndpoint: s.valkey.primaryEndpoint, tenants: s.shard.tenants }])),
    ...(standby ? { standbyClusterName: standby.cluster.clusterName, postgresReplicaAddress: postgres.replicaAddress } : {}),
    tenants: spec.tenants.map((t) => ({ name: t.name, tier: t.tier, domains: t.domains })),
  };
}
