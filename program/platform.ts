import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../components/cluster";
import { BACKUP_REPLICATION_RULE, BackupBucket } from "../components/data/backup-bucket";
import { BackupVault } from "../components/data/backup-vault";
import { BACKUP_TIER_TAG } from "../model/tags";
import { Filestore } from "../components/data/filestore";
import { PostgresCluster } from "../components/data/postgres";
import { Redis } from "../components/data/redis";
import { DEDICATED_KEY, POOL_LABEL } from "../model/node-pools";
import { dataShardId, tenantPosixId } from "../model/naming";
import { Ingress } from "../components/ingress";
import { Network } from "../components/network";
import { RunnerLink } from "../components/network/runner-link";
import { CiPreviewRbac } from "../components/cluster/ci-rbac";
import { Monitoring, PUSHGATEWAY_URL } from "../components/observability";
import { AwsAlarms } from "../components/observability/aws-alarms";
import { OdooTenant } from "../components/tenant";
import { DRILL_SERVICE_ACCOUNT, TenantPlatform } from "../components/tenant/platform";
import { dataTierPlan } from "../spec/data-tier";
import { systemPoolOf, type PlatformSpec } from "../spec/index";
import { eksVersion, TIERS } from "../tiers/catalogue";
import { platformTags, tenantTags } from "../model/tags";

/**
 * Composes a stack from its validated spec. Components receive plain values and Inputs; none of
 * them reads configuration itself.
 */
export async function buildPlatform(spec: PlatformSpec) {
  const tags = platformTags(spec);
  const plan = dataTierPlan(spec);

  // Every AWS resource goes through an explicit provider, never the ambient default one, so the
  // region a resource lands in is always the one the spec names.
  const primary = new aws.Provider("primary", { region: spec.region as aws.Region, defaultTags: { tags } });
  const inPrimary = { providers: { aws: primary } };
  const dr = plan.needsDrProvider ? new aws.Provider("dr", { region: spec.drRegion as aws.Region, defaultTags: { tags } }) : undefined;

  const network = new Network(spec.stack, {
    cidr: spec.network.cidr,
    zones: spec.zones,
    natGateways: spec.network.natGateways,
    flowLogRetentionDays: spec.network.flowLogRetentionDays,
    tags,
  }, inPrimary);

  const tenantsByName = new Map(spec.tenants.map((t) => [t.name, t]));
  const poolTags: Record<string, Record<string, string>> = {};
  for (const pool of spec.cluster.nodePools) {
    const tenant = pool.dedicatedTo === undefined ? undefined : tenantsByName.get(pool.dedicatedTo);
    if (tenant) poolTags[pool.name] = tenantTags({}, tenant);
  }

  // The spec accepts only versions whose add-on builds the calendar pins.
  const addonVersions = eksVersion(spec.cluster.kubernetesVersion)?.addons ?? {};
  // CI reaches the private API endpoint from the bootstrap stack's runners of this stack's label.
  const runnerLink = new RunnerLink(spec.stack, {
    vpcId: network.vpcId,
    cidr: spec.network.cidr,
    routeTables: network.zones.map((z, i) => ({ zone: z.zone, routeTableId: network.privateRouteTableIds[i]! })),
    runnerLabel: spec.ci.runnerLabel,
    runnerCidr: spec.ci.runnerCidr,
    tags,
  }, inPrimary);
  const ci = { deployRoleArn: spec.ci.deployRoleArn, previewRoleArn: spec.ci.previewRoleArn };

  const cluster = new Cluster(spec.stack, {
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
    tags,
    poolTags,
  }, inPrimary);

  // A warm standby: network and a cluster in the DR region whose node groups idle at zero, ready to scale.
  let standby: { network: Network; cluster: Cluster } | undefined;
  if (plan.warmStandby && dr && spec.dr.network) {
    const inDr = { providers: { aws: dr } };
    const drNetwork = new Network(`${spec.stack}-dr`, {
      cidr: spec.dr.network.cidr,
      zones: spec.dr.network.zones,
      natGateways: spec.network.natGateways,
      flowLogRetentionDays: spec.network.flowLogRetentionDays,
      tags,
    }, inDr);
    const drCluster = new Cluster(`${spec.stack}-dr`, {
      clusterName: `${spec.cluster.name}-dr`,
      kubernetesVersion: spec.cluster.kubernetesVersion,
      addonVersions,
      subnets: drNetwork.zones.map((z) => ({ zone: z.zone, subnetId: z.privateSubnetId })),
      nodePools: plan.standbyNodePools,
      // Access entries now, so activating DR needs no access change; the runners get a network path
      // (cross-region peering) only with DR activation, which is a deliberate, reviewed change.
      ci,
      logRetentionDays: spec.cluster.logRetentionDays,
      deletionProtection: true,
      protect: spec.data.protect,
      tags,
      poolTags,
    }, inDr);
    standby = { network: drNetwork, cluster: drCluster };
  }

  // Observability first: the data stores send their events to its topics.
  const inCluster = { providers: { aws: primary, kubernetes: cluster.provider } };
  new CiPreviewRbac(spec.stack, {}, inCluster);
  const systemPool = systemPoolOf(spec.cluster);
  const monitoring = new Monitoring(spec.stack, {
    environment: spec.environment,
    zones: spec.zones.length,
    systemNodeSelector: { [POOL_LABEL]: systemPool },
    tenants: spec.tenants.map((t) => ({ name: t.name, tier: t.tier, domains: t.domains, queueJob: t.queueJob })),
    runbookBaseUrl: spec.observability.runbookBaseUrl,
    businessHoursTimeZone: spec.observability.businessHoursTimeZone,
    cluster: { oidcProviderArn: cluster.oidcProviderArn, oidcIssuerUrl: cluster.oidcIssuerUrl },
    region: spec.region,
    protect: spec.data.protect,
    tags,
  }, inCluster);
  // Shared data stores serve every tenant of the stack; a dedicated stack's serve its one tenant.
  const dedicatedTenant = spec.kind === "dedicated" ? spec.tenants[0] : undefined;
  const dataTags = { ...(dedicatedTenant ? tenantTags(tags, dedicatedTenant) : tags), [BACKUP_TIER_TAG]: plan.strictestTier };
  const clients = [cluster.clusterSecurityGroupId];

  // One PostgreSQL server and one Valkey group per data shard; the first keeps the stack's own names.
  const shards = spec.data.shards.map((shard) => {
    const name = shard.name === undefined ? spec.stack : `${spec.stack}-${shard.name}`;
    const id = dataShardId(spec.cluster.name, shard.name);
    const tenants = shard.tenants.map((t) => tenantsByName.get(t)!);
    const postgres = new PostgresCluster(name, {
      identifier: id,
      version: shard.postgres.version,
      instanceClass: shard.postgres.instanceClass,
      storageGiB: shard.postgres.storageGiB,
      maxStorageGiB: shard.postgres.maxStorageGiB,
      multiAz: shard.postgres.multiAz,
      backupRetentionDays: shard.postgres.backupRetentionDays,
      backupWindow: spec.data.backupWindow,
      maintenanceWindow: spec.data.maintenanceWindow,
      vpcId: network.vpcId,
      subnetIds: network.isolatedSubnetIds,
      clientSecurityGroupIds: clients,
      logRetentionDays: spec.cluster.logRetentionDays,
      protect: spec.data.protect,
      // The warm standby serves a dedicated stack, which has one shard only.
      ...(dr && (plan.postgres.replicateAutomatedBackups || standby)
        ? {
            dr: {
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
            },
          }
        : {}),
      tags: dataTags,
    }, inPrimary);

    const redis = new Redis(name, {
      replicationGroupId: id,
      nodeType: shard.redis.nodeType,
      multiAz: shard.redis.multiAz,
      tenants: tenants.map((t) => ({ name: t.name, tier: t.tier })),
      vpcId: network.vpcId,
      subnetIds: network.isolatedSubnetIds,
      clientSecurityGroupIds: clients,
      snapshotWindow: spec.data.backupWindow,
      maintenanceWindow: spec.data.maintenanceWindow,
      logRetentionDays: spec.cluster.logRetentionDays,
      // Failovers and other cache events go to the 24x7 topic.
      notificationTopicArn: monitoring.topics.critical,
      protect: spec.data.protect,
      tags: dataTags,
    }, inPrimary);
    return { shard, id, postgres, redis };
  });
  const [first] = shards;
  const { postgres, redis } = first!;
  const shardOf = new Map(shards.flatMap((s) => s.shard.tenants.map((t) => [t, s] as const)));

  const filestore = new Filestore(spec.stack, {
    subnets: network.zones.map((z) => ({ zone: z.zone, subnetId: z.isolatedSubnetId })),
    vpcId: network.vpcId,
    clientSecurityGroupIds: clients,
    tenants: spec.tenants.map((t) => ({ name: t.name, tier: t.tier })),
    ...(dr && plan.filestoreReplication ? { replication: { provider: dr, region: spec.drRegion } } : {}),
    protect: spec.data.protect,
    tags: dataTags,
  }, inPrimary);

  const backups = new BackupBucket(spec.stack, {
    lock: plan.objectLock,
    retention: plan.backupPlans.map(({ tier, keepDays }) => ({ tier, keepDays })),
    ...(dr ? { replication: { provider: dr, replicationTimeControl: plan.replicationTimeControl } } : {}),
    protect: spec.data.protect,
    tags: dataTags,
  }, inPrimary);

  const vault = new BackupVault(spec.stack, {
    plans: plan.backupPlans,
    lockBounds: plan.vaultLock,
    complianceLock: plan.vaultComplianceLock,
    ...(dr ? { dr: { provider: dr } } : {}),
    protect: spec.data.protect,
    tags: dataTags,
  }, inPrimary);

  // The edge and the tenants, in the cluster, through its Kubernetes provider.
  const ingress = new Ingress(spec.stack, {
    after: [monitoring.crds],
    replicas: spec.environment === "production" ? spec.zones.length : 2,
    acmeEmail: spec.ingress.acmeEmail,
    acmeServer: spec.ingress.acmeServer,
    systemNodeSelector: { [POOL_LABEL]: systemPool },
  }, inCluster);
  const dataCidrs = network.layout.map((z) => z.isolated);
  const tenantPlatform = new TenantPlatform(spec.stack, {
    cluster,
    masterSecrets: shards.map((s) => ({ secretArn: s.postgres.masterUserSecretArn, keyArn: s.postgres.kmsKeyArn })),
    dataCidrs,
    backups: { bucketArn: backups.bucketArn, kmsKeyArn: backups.kmsKeyArn },
    tags,
  }, inCluster);

  // Tiers that check from more than one region get Route 53 health checks besides the in-cluster probes.
  const multiRegionTenants = spec.tenants.filter((t) => TIERS[t.tier].syntheticCheck.regions > 1);
  new AwsAlarms(spec.stack, {
    topics: monitoring.topics,
    metricNamespace: `OdooFleet/${spec.stack}`,
    ...(standby && dr
      ? { dr: { provider: dr, replicaIdentifier: `${spec.cluster.name}-dr`, keyPolicy: monitoring.alertKeyPolicy, maxLagSeconds: 300 } }
      : {}),
    ...(multiRegionTenants.length > 0
      ? {
          multiRegionChecks: {
            provider: new aws.Provider("us-east-1", { region: "us-east-1", defaultTags: { tags } }),
            keyPolicy: monitoring.alertKeyPolicy,
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
    tags,
  }, { ...inPrimary, dependsOn: [...shards.flatMap((s) => [s.postgres, s.redis]), backups] });

  for (const [index, tenant] of spec.tenants.entries()) {
    // Let the SDK serialize and send the previous tenant's registrations before declaring the next
    // one: declared all at once, a thousand tenants' ~40,000 registrations sit in memory together
    // (8 GiB and most of the time in garbage collection offline). This never waits on the engine.
    if (index > 0) await new Promise((resolve) => setImmediate(resolve));
    const dedicatedPool = spec.cluster.nodePools.find((p) => p.dedicatedTo === tenant.name);
    const data = shardOf.get(tenant.name)!;
    const cacheUser = data.redis.users[tenant.name]!;
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
      redis: { host: data.redis.primaryEndpoint, port: data.redis.port, userName: cacheUser.userName, password: cacheUser.password, keyPrefix: cacheUser.keyPrefix },
      filestore: { fileSystemId: filestore.fileSystemId, accessPointId: accessPoint.id, posixId: tenantPosixId(tenant.name) },
      backup: {
        bucketArn: backups.bucketArn,
        bucketName: backups.bucketName,
        kmsKeyArn: backups.kmsKeyArn,
        oidcProviderArn: cluster.oidcProviderArn,
        oidcIssuerUrl: cluster.oidcIssuerUrl,
        pushgatewayUrl: PUSHGATEWAY_URL,
        drill: { serviceAccount: DRILL_SERVICE_ACCOUNT },
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
    redisEndpoint: redis.primaryEndpoint,
    filestoreId: filestore.fileSystemId,
    backupBucket: backups.bucketName,
    alertTopics: monitoring.topics,
    backupVaultArn: vault.vaultArn,
    // Every data shard's endpoints, by shard (the first under "").
    dataShards: Object.fromEntries(shards.map(({ shard, postgres: pg, redis: cache }) => [shard.name ?? "", { postgresAddress: pg.address, redisEndpoint: cache.primaryEndpoint, tenants: shard.tenants }])),
    ...(standby ? { standbyClusterName: standby.cluster.clusterName, postgresReplicaAddress: postgres.replicaAddress } : {}),
    tenants: spec.tenants.map((t) => ({ name: t.name, tier: t.tier, domains: t.domains })),
  };
}
