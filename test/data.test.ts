import * as aws from "@pulumi/aws";
import { beforeAll, describe, expect, test } from "vitest";
import { BackupBucket, backupLifecycleRules } from "../components/data/backup-bucket";
import fc from "fast-check";
import { BackupVault, backupSchedule, plansOutsideLock } from "../components/data/backup-vault";
import { Filestore } from "../components/data/filestore";
import { cacheUserId, tenantPosixId } from "../model/naming";
import { odooPostgresParameters, PostgresServer } from "../components/data/postgres";
import { tenantAccessString, Valkey } from "../components/data/valkey";
import { dataTierPlan } from "../spec/data-tier";
import { vaultLockBounds } from "../tiers/backup";
import { strictestTier, TIER_NAMES, TIERS } from "../tiers/catalogue";
import type { CapturedResource } from "../model/resource";
import { childrenOf, KEY_ADMINISTRATION, named, ofType, startHarness } from "./harness";

const TAGS = { project: "odoo-fleet", stack: "test", environment: "production" };
const ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
const ISOLATED = ZONES.map((z) => `subnet-isolated-${z}`);

let resources: CapturedResource[];
let drProviderUrn: string;

beforeAll(async () => {
  const harness = await startHarness();
  const dr = new aws.Provider("dr", { region: "eu-central-1" });
  const common = { vpcId: "vpc-1", subnetIds: ISOLATED, clientSecurityGroupIds: ["sg-cluster"], tags: TAGS, keyAdministration: KEY_ADMINISTRATION };
  new PostgresServer("prod", {
    logRetentionDays: 365,
    ...common,
    identifier: "odoo-prod",
    version: "16",
    instanceClass: "db.m7g.large",
    storageGiB: 50,
    maxStorageGiB: 500,
    multiAz: true,
    backupRetentionDays: 14,
    backupWindow: "01:00-02:00",
    maintenanceWindow: "sun:03:00-sun:04:00",
    dr: { provider: dr, replicateAutomatedBackups: true, readReplica: { vpcId: "vpc-dr", subnetIds: ["subnet-dr-a", "subnet-dr-b"], clientSecurityGroupIds: ["sg-dr-cluster"] } },
  });
  new PostgresServer("dev", {
    ...common,
    identifier: "odoo-dev",
    version: "16",
    instanceClass: "db.t4g.medium",
    storageGiB: 50,
    maxStorageGiB: 100,
    multiAz: false,
    backupRetentionDays: 7,
    backupWindow: "01:00-02:00",
    maintenanceWindow: "sun:03:00-sun:04:00",
    logRetentionDays: 30,
    protect: false,
  });
  new Valkey("prod", { ...common, replicationGroupId: "odoo-prod", nodeType: "cache.m7g.large", multiAz: true, tenants: [{ name: "northwind", tier: "business" }, { name: "contoso", tier: "business" }], snapshotWindow: "01:00-02:00", maintenanceWindow: "sun:03:00-sun:04:00", logRetentionDays: 365 });
  new Valkey("dev", { ...common, replicationGroupId: "odoo-dev", nodeType: "cache.t4g.small", multiAz: false, tenants: [{ name: "demo", tier: "essential" }], snapshotWindow: "01:00-02:00", maintenanceWindow: "sun:03:00-sun:04:00", logRetentionDays: 30, protect: false });
  new Filestore("prod", { ...common, subnets: ZONES.map((zone, i) => ({ zone, subnetId: ISOLATED[i]! })), mountRoleArns: ["arn:aws:iam::123456789012:role/prod-node"], tenants: [{ name: "northwind", tier: "business" }, { name: "contoso", tier: "business" }], replication: { provider: dr, region: "eu-central-1" } });
  new BackupBucket("prod", {
    lock: { mode: "GOVERNANCE", days: 90 },
    retention: [{ tier: "essential", keepDays: 30 }, { tier: "business", keepDays: 90 }],
    replication: { provider: dr, replicationTimeControl: true },
    keyAdministration: KEY_ADMINISTRATION,
    tags: TAGS,
  });
  new BackupBucket("dev", { lock: { mode: "GOVERNANCE", days: 30 }, retention: [{ tier: "essential", keepDays: 30 }], protect: false, keyAdministration: KEY_ADMINISTRATION, tags: TAGS });
  const lockBounds = { minRetentionDays: 30, maxRetentionDays: 365 };
  new BackupVault("prod", { plans: [{ tier: "essential", everyHours: 24, keepDays: 30 }, { tier: "business", everyHours: 6, keepDays: 90 }], lockBounds, dr: { provider: dr }, keyAdministration: KEY_ADMINISTRATION, tags: TAGS });
  new BackupVault("dev", { plans: [{ tier: "essential", everyHours: 24, keepDays: 30 }], lockBounds, complianceLock: false, protect: false, keyAdministration: KEY_ADMINISTRATION, tags: TAGS });
  resources = await harness.settle();
  drProviderUrn = named(resources, "dr", "pulumi:providers:aws").urn;
});

const inDr = (r: CapturedResource) => r.provider?.startsWith(`${drProviderUrn}::`) === true;
const RDS = "aws:rds/instance:Instance";

describe("PostgresServer", () => {
  test("keeps the URNs it had as PostgresCluster: the old type is its alias, and its children's through it", () => {
    expect(named(resources, "prod", "odoo-fleet:data:PostgresServer").aliases).toEqual(["urn:pulumi:test::odoo-fleet::odoo-fleet:data:PostgresCluster::prod"]);
    expect(named(resources, "prod-postgres", RDS).aliases).toEqual(["urn:pulumi:test::odoo-fleet::odoo-fleet:data:PostgresCluster$aws:rds/instance:Instance::prod-postgres"]);
  });

  test("production instance: exact inputs", () => {
    const db = named(resources, "prod-postgres", RDS);
    expect(db.inputs).toEqual({
      identifier: "odoo-prod",
      engine: "postgres",
      engineVersion: "16",
      instanceClass: "db.m7g.large",
      allocatedStorage: 50,
      maxAllocatedStorage: 500,
      storageType: "gp3",
      storageEncrypted: true,
      kmsKeyId: expect.stringMatching(/^arn:aws:kms:eu-west-1:123456789012:key\/prod-postgres-/),
      username: "fleet_admin",
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: db.inputs.kmsKeyId,
      dbSubnetGroupName: expect.stringMatching(/^prod-postgres-/),
      vpcSecurityGroupIds: [expect.stringMatching(/^prod-postgres-/)],
      publiclyAccessible: false,
      port: 5432,
      multiAz: true,
      parameterGroupName: expect.stringMatching(/^prod-postgres-/),
      backupRetentionPeriod: 14,
      backupWindow: "01:00-02:00",
      maintenanceWindow: "sun:03:00-sun:04:00",
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: false,
      deletionProtection: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "odoo-prod-final",
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      caCertIdentifier: "rds-ca-rsa2048-g1",
      iamDatabaseAuthenticationEnabled: true,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: db.inputs.kmsKeyId,
      performanceInsightsRetentionPeriod: 7,
      monitoringInterval: 60,
      monitoringRoleArn: expect.stringMatching(/^arn:aws:iam::123456789012:role\/prod-postgres-monitoring-/),
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      applyImmediately: false,
      tags: { ...TAGS, Name: "prod-postgres" },
    });
    expect(db.protect).toBe(true);
    expect(db.retainOnDelete).toBe(true);
    // No password of ours anywhere: RDS keeps it in Secrets Manager.
    expect(db.inputs.password).toBeUndefined();
  });

  test("development instance: single zone, unprotected, shorter log retention", () => {
    const db = named(resources, "dev-postgres", RDS);
    expect(db.inputs).toMatchObject({ multiAz: false, deletionProtection: false, backupRetentionPeriod: 7, instanceClass: "db.t4g.medium" });
    expect([db.protect, db.retainOnDelete]).toEqual([false, false]);
    expect(named(resources, "dev-postgres-postgresql", "aws:cloudwatch/logGroup:LogGroup").inputs).toMatchObject({ name: "/aws/rds/instance/odoo-dev/postgresql", retentionInDays: 30 });
    expect(ofType(childrenOf(resources, named(resources, "dev", "odoo-fleet:data:PostgresServer")), RDS)).toHaveLength(1);
  });

  test("parameters tuned for Odoo, max_connections by RDS's formula of the instance class", () => {
    const group = named(resources, "prod-postgres", "aws:rds/parameterGroup:ParameterGroup");
    expect(group.inputs.family).toBe("postgres16");
    expect(group.inputs.parameters).toEqual(odooPostgresParameters());
    const byName = Object.fromEntries((group.inputs.parameters as { name: string; value: string }[]).map((p) => [p.name, p.value]));
    expect(byName).toMatchObject({ "rds.force_ssl": "1", shared_preload_libraries: "pg_stat_statements,pgaudit", max_connections: "LEAST({DBInstanceClassMemory/9531392},5000)", log_lock_waits: "1", idle_in_transaction_session_timeout: "600000" });
  });

  test("reachable on 5432 from the cluster's security group only, with no egress rule", () => {
    const rules = ofType(childrenOf(resources, named(resources, "prod", "odoo-fleet:data:PostgresServer")), "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => !inDr(r));
    expect(rules.map((r) => r.inputs)).toEqual([
      { securityGroupId: expect.stringMatching(/^prod-postgres-/), referencedSecurityGroupId: "sg-cluster", ipProtocol: "tcp", fromPort: 5432, toPort: 5432, description: "PostgreSQL from the EKS cluster" },
    ]);
    const sg = named(resources, "prod-postgres", "aws:ec2/securityGroup:SecurityGroup");
    expect(sg.inputs.egress).toBeUndefined();
    expect(sg.inputs.ingress).toBeUndefined();
  });

  test("DR: automated backups replicated and a read replica, both in the DR region with a DR key", () => {
    const replication = named(resources, "prod-postgres-backups-dr", "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication");
    expect(inDr(replication)).toBe(true);
    expect(replication.inputs).toEqual({
      sourceDbInstanceArn: "arn:aws:rds:eu-west-1:123456789012:db:odoo-prod",
      kmsKeyId: expect.stringMatching(/^arn:aws:kms:eu-central-1:123456789012:key\/prod-postgres-dr-/),
      retentionPeriod: 14,
    });
    const replica = named(resources, "prod-postgres-replica-dr", RDS);
    expect(inDr(replica)).toBe(true);
    expect(replica.inputs).toMatchObject({
      identifier: "odoo-prod-dr",
      replicateSourceDb: "arn:aws:rds:eu-west-1:123456789012:db:odoo-prod",
      storageEncrypted: true,
      kmsKeyId: replication.inputs.kmsKeyId,
      publiclyAccessible: false,
      deletionProtection: true,
      backupRetentionPeriod: 14,
    });
    expect(replica.inputs.username).toBeUndefined();
    expect(replica.protect).toBe(true);
    const drKey = named(resources, "prod-postgres-dr", "aws:kms/key:Key");
    expect(inDr(drKey)).toBe(true);
    expect(drKey.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    for (const type of ["aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup", "aws:ec2/securityGroup:SecurityGroup"]) {
      expect(inDr(named(resources, "prod-postgres-dr", type)), type).toBe(true);
    }
    expect(named(resources, "prod-postgres-dr", "aws:rds/subnetGroup:SubnetGroup").inputs.subnetIds).toEqual(["subnet-dr-a", "subnet-dr-b"]);
  });
});

describe("Valkey", () => {
  test("keeps the URNs it had as Redis: the old type is its alias, and its children's through it", () => {
    expect(named(resources, "prod", "odoo-fleet:data:Valkey").aliases).toEqual(["urn:pulumi:test::odoo-fleet::odoo-fleet:data:Redis::prod"]);
    expect(named(resources, "prod-redis-northwind", "aws:elasticache/user:User").aliases).toEqual(["urn:pulumi:test::odoo-fleet::odoo-fleet:data:Redis$aws:elasticache/user:User::prod-redis-northwind"]);
  });

  const REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup";
  test("production: replica in another zone with failover, TLS required, KMS at rest, RBAC group, snapshots", () => {
    const group = named(resources, "prod-redis", REPLICATION_GROUP);
    expect(group.inputs).toMatchObject({
      replicationGroupId: "odoo-prod",
      engine: "valkey",
      engineVersion: "8.0",
      nodeType: "cache.m7g.large",
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      atRestEncryptionEnabled: true,
      kmsKeyId: expect.stringMatching(/^arn:aws:kms:eu-west-1:123456789012:key\/prod-redis-/),
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      userGroupIds: ["odoo-prod-users"],
      snapshotRetentionLimit: 7,
      finalSnapshotIdentifier: "odoo-prod-final",
    });
    expect(group.inputs.authToken).toBeUndefined();
    expect([group.protect, group.retainOnDelete]).toEqual([true, true]);
  });

  test("development: one node, no failover", () => {
    expect(named(resources, "dev-redis", REPLICATION_GROUP).inputs).toMatchObject({ numCacheClusters: 1, automaticFailoverEnabled: false, multiAzEnabled: false, transitEncryptionEnabled: true });
  });

  test("the default user is switched off; each tenant's user reaches only its own prefix; passwords are secret", () => {
    const users = ofType(childrenOf(resources, named(resources, "prod", "odoo-fleet:data:Valkey")), "aws:elasticache/user:User");
    expect(users.map((u) => [u.inputs.userName, u.inputs.userId, u.inputs.accessString])).toEqual([
      ["default", cacheUserId("odoo-prod", "default"), "off -@all"],
      ["northwind", cacheUserId("odoo-prod", "northwind"), "on ~session::northwind:* &northwind:* -@all +get +set +expire +del"],
      ["contoso", cacheUserId("odoo-prod", "contoso"), "on ~session::contoso:* &contoso:* -@all +get +set +expire +del"],
    ]);
    for (const u of users) expect(u.inputs.authenticationMode).toEqual({ type: "password", passwords: ["[secret]"] });
    expect(named(resources, "prod-redis", "aws:elasticache/userGroup:UserGroup").inputs.userIds).toEqual(users.map((u) => u.inputs.userId));
    expect(tenantAccessString("a")).not.toContain("~*");
    expect(named(resources, "prod-redis", "aws:elasticache/parameterGroup:ParameterGroup").inputs).toMatchObject({
      family: "valkey8",
      parameters: [{ name: "maxmemory-policy", value: "volatile-lru" }, { name: "timeout", value: "3600" }],
    });
  });
});

describe("Filestore", () => {
  test("encrypted EFS, protected, a mount target per zone, TLS-only policy", () => {
    const fs = named(resources, "prod-filestore", "aws:efs/fileSystem:FileSystem");
    expect(fs.inputs).toMatchObject({ encrypted: true, kmsKeyId: expect.stringMatching(/^arn:aws:kms:eu-west-1:/), throughputMode: "elastic", protection: { replicationOverwrite: "DISABLED" } });
    expect([fs.protect, fs.retainOnDelete]).toEqual([true, true]);
    const targets = ofType(resources, "aws:efs/mountTarget:MountTarget");
    expect(targets.map((t) => t.inputs.subnetId)).toEqual(ISOLATED);
    const policy = JSON.parse(named(resources, "prod-filestore", "aws:efs/fileSystemPolicy:FileSystemPolicy").inputs.policy as string);
    expect(policy.Statement[0]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
  });

  test("one access point per tenant with its own root directory and POSIX owner", () => {
    const points = ofType(resources, "aws:efs/accessPoint:AccessPoint");
    expect(points.map((p) => [p.name, p.inputs.posixUser, p.inputs.rootDirectory])).toEqual(
      ["northwind", "contoso"].map((t) => [
        `prod-filestore-${t}`,
        { uid: tenantPosixId(t), gid: tenantPosixId(t) },
        { path: `/tenants/${t}`, creationInfo: { ownerUid: tenantPosixId(t), ownerGid: tenantPosixId(t), permissions: "0750" } },
      ]),
    );
    expect(tenantPosixId("northwind")).not.toBe(tenantPosixId("contoso"));
  });

  test("replication to the DR region with a DR-region key", () => {
    const replication = named(resources, "prod-filestore-replication", "aws:efs/replicationConfiguration:ReplicationConfiguration");
    expect(inDr(replication)).toBe(false);
    expect(replication.inputs.destination).toEqual({ region: "eu-central-1", kmsKeyId: expect.stringMatching(/^arn:aws:kms:eu-central-1:.*prod-filestore-dr-/) });
    expect(inDr(named(resources, "prod-filestore-dr", "aws:kms/key:Key"))).toBe(true);
  });
});

describe("BackupBucket", () => {
  const S3 = (kind: string) => `aws:s3/${kind}`;
  test("object-locked, versioned, SSE-KMS with bucket key, public access blocked, ACLs off, retained", () => {
    const bucket = named(resources, "prod-backup", S3("bucket:Bucket"));
    expect(bucket.inputs).toMatchObject({ objectLockEnabled: true, forceDestroy: false });
    expect([bucket.protect, bucket.retainOnDelete]).toEqual([true, true]);
    expect(named(resources, "prod-backup", S3("bucketVersioning:BucketVersioning")).inputs.versioningConfiguration).toEqual({ status: "Enabled" });
    expect(named(resources, "prod-backup", S3("bucketObjectLockConfiguration:BucketObjectLockConfiguration")).inputs).toMatchObject({
      objectLockEnabled: "Enabled",
      rule: { defaultRetention: { mode: "GOVERNANCE", days: 90 } },
    });
    expect(named(resources, "prod-backup", S3("bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")).inputs.rules).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: expect.stringMatching(/^arn:aws:kms:eu-west-1:/) }, bucketKeyEnabled: true },
    ]);
    expect(named(resources, "prod-backup", S3("bucketPublicAccessBlock:BucketPublicAccessBlock")).inputs).toMatchObject({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(named(resources, "prod-backup", S3("bucketOwnershipControls:BucketOwnershipControls")).inputs.rule).toEqual({ objectOwnership: "BucketOwnerEnforced" });
    expect(named(resources, "prod-backup", S3("bucketLogging:BucketLogging")).inputs).toMatchObject({ targetPrefix: "backup/" });
  });

  test("the policy denies non-TLS access and version deletion", () => {
    const policy = JSON.parse(named(resources, "prod-backup", S3("bucketPolicy:BucketPolicy")).inputs.policy as string);
    expect(policy.Statement.map((s: { Sid: string; Effect: string; Action: unknown }) => [s.Sid, s.Effect, s.Action])).toEqual([
      ["DenyWithoutTls", "Deny", "s3:*"],
      ["DenyVersionDeletion", "Deny", ["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"]],
    ]);
  });

  test("lifecycle per tier, by the tag the backup jobs set: colder storage, expiry after the tier's retention", () => {
    expect(named(resources, "prod-backup", S3("bucketLifecycleConfiguration:BucketLifecycleConfiguration")).inputs.rules).toEqual([
      { id: "abort-incomplete-uploads", status: "Enabled", filter: { prefix: "" }, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
      { id: "tier-essential", status: "Enabled", filter: { tag: { key: "odoo-fleet-tier", value: "essential" } }, transitions: [], expiration: { days: 30 }, noncurrentVersionExpiration: { noncurrentDays: 1 } },
      { id: "tier-business", status: "Enabled", filter: { tag: { key: "odoo-fleet-tier", value: "business" } }, transitions: [{ days: 30, storageClass: "STANDARD_IA" }], expiration: { days: 90 }, noncurrentVersionExpiration: { noncurrentDays: 1 } },
    ]);
    expect(backupLifecycleRules([{ tier: "critical", keepDays: 365 }])[1]).toMatchObject({
      filter: { tag: { key: "odoo-fleet-tier", value: "critical" } },
      transitions: [{ days: 30, storageClass: "STANDARD_IA" }, { days: 90, storageClass: "GLACIER_IR" }],
      expiration: { days: 365 },
    });
  });

  test("replication with RTC 15 min and metrics to a locked KMS bucket in the DR region, through a least-privilege role", () => {
    const replication = named(resources, "prod-backup", S3("bucketReplicationConfig:BucketReplicationConfig"));
    const rule = (replication.inputs.rules as Record<string, unknown>[])[0]!;
    expect(rule.destination).toEqual({
      bucket: expect.stringMatching(/^arn:aws:s3:::prod-backup-dr-/),
      storageClass: "STANDARD",
      encryptionConfiguration: { replicaKmsKeyId: expect.stringMatching(/^arn:aws:kms:eu-central-1:/) },
      replicationTime: { status: "Enabled", time: { minutes: 15 } },
      metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
    });
    const replica = named(resources, "prod-backup-dr", S3("bucket:Bucket"));
    expect(inDr(replica)).toBe(true);
    expect(replica.inputs.objectLockEnabled).toBe(true);
    expect(inDr(named(resources, "prod-backup-dr", S3("bucketObjectLockConfiguration:BucketObjectLockConfiguration")))).toBe(true);
    const policy = JSON.parse(named(resources, "prod-backup-replication", "aws:iam/rolePolicy:RolePolicy").inputs.policy as string);
    expect(policy.Statement.flatMap((s: { Action: string[] }) => s.Action)).toEqual([
      "s3:GetReplicationConfiguration", "s3:ListBucket",
      "s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging", "s3:GetObjectRetention", "s3:GetObjectLegalHold",
      "s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags",
      "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey",
    ]);
  });

  test("development keeps Object Lock and encryption but does not replicate", () => {
    expect(named(resources, "dev-backup", S3("bucket:Bucket")).inputs.objectLockEnabled).toBe(true);
    expect(named(resources, "dev-backup", S3("bucketObjectLockConfiguration:BucketObjectLockConfiguration")).inputs.rule).toEqual({ defaultRetention: { mode: "GOVERNANCE", days: 30 } });
    expect(childrenOf(resources, named(resources, "dev", "odoo-fleet:data:BackupBucket")).some((r) => r.type === S3("bucketReplicationConfig:BucketReplicationConfig"))).toBe(false);
    // Buckets are retained on delete even where they are not protected.
    expect(named(resources, "dev-backup", S3("bucket:Bucket")).retainOnDelete).toBe(true);
  });
});

describe("BackupVault", () => {
  test("compliance-mode Vault Lock in both regions, with the bounds it is given, not its plans' own", () => {
    for (const name of ["prod-backup", "prod-backup-dr"]) {
      const lock = named(resources, name, "aws:backup/vaultLockConfiguration:VaultLockConfiguration");
      expect(lock.inputs).toEqual({ backupVaultName: name, minRetentionDays: 30, maxRetentionDays: 365, changeableForDays: 3 });
      expect(inDr(lock)).toBe(name.endsWith("-dr"));
      expect(named(resources, name, "aws:backup/vault:Vault").inputs.kmsKeyArn).toMatch(/^arn:aws:kms:/);
    }
    expect(named(resources, "dev-backup", "aws:backup/vaultLockConfiguration:VaultLockConfiguration").inputs.changeableForDays).toBeUndefined();
  });

  test("a plan per tier with its schedule, retention and a copy to the DR vault; selections by tag", () => {
    const plans = ofType(childrenOf(resources, named(resources, "prod", "odoo-fleet:data:BackupVault")), "aws:backup/plan:Plan");
    expect(plans.map((p) => (p.inputs.rules as Record<string, unknown>[])[0])).toEqual([
      expect.objectContaining({ schedule: "cron(0 2 * * ? *)", lifecycle: { deleteAfter: 30 }, copyActions: [{ destinationVaultArn: "arn:aws:backup:eu-central-1:123456789012:backup-vault:prod-backup-dr", lifecycle: { deleteAfter: 30 } }] }),
      expect.objectContaining({ schedule: "cron(0 0/6 * * ? *)", lifecycle: { deleteAfter: 90 } }),
    ]);
    const selections = ofType(resources, "aws:backup/selection:Selection").filter((s) => s.name.startsWith("prod-"));
    expect(selections.map((s) => s.inputs.selectionTags)).toEqual([
      [{ type: "STRINGEQUALS", key: "odoo-fleet/backup-tier", value: "essential" }],
      [{ type: "STRINGEQUALS", key: "odoo-fleet/backup-tier", value: "business" }],
    ]);
    expect([1, 6, 24].map(backupSchedule)).toEqual(["cron(0 * * * ? *)", "cron(0 0/6 * * ? *)", "cron(0 2 * * ? *)"]);
  });
});

describe("Vault Lock bounds", () => {
  test("from the whole tier catalogue: essential's 30 days to critical's 365", () => {
    expect(vaultLockBounds(Object.values(TIERS))).toEqual({ minRetentionDays: 30, maxRetentionDays: 365 });
    expect(vaultLockBounds([{ logicalBackup: { everyHours: 1, keepDays: 7 } }, { logicalBackup: { everyHours: 1, keepDays: 400 } }])).toEqual({ minRetentionDays: 7, maxRetentionDays: 400 });
    expect(() => vaultLockBounds([])).toThrow("the tier catalogue is empty");
  });

  test("the same for every stack, whatever tiers its tenants have: a tenant of any tier added later fits", () => {
    fc.assert(
      fc.property(fc.subarray([...TIER_NAMES]), fc.constantFrom("production", "development"), (tiers, environment) => {
        const plan = dataTierPlan({
          tenants: tiers.map((tier, i) => ({ name: `t${i}`, tier }) as never),
          dr: { enabled: environment === "production", warmStandby: false },
          environment,
          data: { strictestTier: strictestTier(tiers) ?? "essential" } as never,
          cluster: { nodePools: [{ name: "general", minPerZone: 1, maxPerZone: 2 }], tenantPool: "general" } as never,
        });
        expect(plan.vaultLock).toEqual({ minRetentionDays: 30, maxRetentionDays: 365 });
        // Every tier's plan fits, present or not.
        const all = TIER_NAMES.map((t) => ({ tier: t, everyHours: TIERS[t].logicalBackup.everyHours, keepDays: TIERS[t].logicalBackup.keepDays }));
        expect(plansOutsideLock(all, plan.vaultLock)).toEqual([]);
      }),
    );
  });

  test("a plan outside the bounds is named (BackupVault throws with these before registering its vault)", () => {
    expect(plansOutsideLock([{ tier: "a", everyHours: 24, keepDays: 7 }, { tier: "b", everyHours: 24, keepDays: 90 }, { tier: "c", everyHours: 1, keepDays: 400 }], { minRetentionDays: 30, maxRetentionDays: 365 })).toEqual([
      "plan a keeps 7 days, outside the Vault Lock's 30-365",
      "plan c keeps 400 days, outside the Vault Lock's 30-365",
    ]);
    expect(() => new BackupVault("bad", { plans: [{ tier: "a", everyHours: 24, keepDays: 7 }], lockBounds: { minRetentionDays: 30, maxRetentionDays: 365 }, keyAdministration: KEY_ADMINISTRATION, tags: TAGS })).toThrow(
      "BackupVault bad: plan a keeps 7 days, outside the Vault Lock's 30-365",
    );
  });
});
