/** The typed spec a stack file parses into: a platform, a review stack on a host platform, or the bootstrap. */
import type { Environment, NatGatewayMode, PROJECT } from "../model/stack";
import type { StackKind, TierName } from "../tiers/catalogue";
import type { NodePoolSpec, TenantSpec } from "./schema";

interface RunnerPoolSpec {
  readonly stack: string;
  readonly environment: Environment;
  readonly label: string;
  readonly cidr: string;
  readonly count: number;
  readonly instanceType: string;
}

export interface BootstrapSpec {
  readonly mode: "bootstrap";
  readonly project: typeof PROJECT;
  readonly stack: string;
  readonly stackFile: string;
  readonly environment: "production";
  readonly region: string;
  readonly owner: string;
  readonly costCentre: string;
  readonly repository: string;
  readonly runnerNetwork: { readonly cidr: string; readonly zone: string };
  readonly runnerTokenSecret: string;
  readonly runners: readonly RunnerPoolSpec[];
}

export interface ReviewSpec {
  readonly mode: "review";
  readonly project: typeof PROJECT;
  readonly stack: string;
  readonly stackFile: string;
  readonly kind: "shared";
  readonly environment: "review";
  readonly region: string;
  readonly host: { readonly stack: string };
  readonly tenants: readonly TenantSpec[];
  readonly owner: string;
  readonly costCentre: string;
  readonly platformImages: { readonly tools: string };
}

/** What a stack file describes: a whole platform, a review environment on a host platform, or the bootstrap. */
export type StackSpec = PlatformSpec | ReviewSpec | BootstrapSpec;

export interface PlatformSpec {
  readonly mode: "platform";
  readonly project: typeof PROJECT;
  readonly stack: string;
  /** The stack file this spec came from, for messages. */
  readonly stackFile: string;
  readonly kind: StackKind;
  readonly environment: Environment;
  readonly region: string;
  readonly drRegion: string;
  readonly zones: readonly string[];
  readonly network: {
    readonly cidr: string;
    readonly natGateways: NatGatewayMode;
    readonly flowLogRetentionDays: number;
  };
  readonly cluster: {
    /** The EKS cluster's name, derived from the stack so two stacks never collide. */
    readonly name: string;
    readonly kubernetesVersion: string;
    readonly endpointPublicAccessCidrs: readonly string[];
    readonly logRetentionDays: number;
    readonly nodePools: readonly NodePoolSpec[];
    /** The pool shared tenants run on. */
    readonly tenantPool: string;
  };
  readonly tenants: readonly TenantSpec[];
  readonly data: DataSpec;
  readonly dr: DrSpec;
  readonly ingress: { readonly acmeEmail: string; readonly acmeServer: string };
  readonly platformImages: { readonly tools: string };
  readonly owner: string;
  readonly costCentre: string;
  readonly observability: { readonly runbookBaseUrl: string; readonly businessHoursTimeZone: string };
  readonly ci: CiSpec;
}

interface CiSpec {
  readonly deployRoleArn: string;
  readonly previewRoleArn: string;
  /** The self-hosted runner label whose runners reach this stack's private API endpoint. */
  readonly runnerLabel: string;
  /** The network of those runners. */
  readonly runnerCidr: string;
}

interface PostgresSpec {
  readonly version: string;
  readonly instanceClass: string;
  readonly storageGiB: number;
  readonly maxStorageGiB: number;
  /** Production always runs its PostgreSQL Multi-AZ, whatever its tenants' tiers. */
  readonly multiAz: boolean;
  /** The longest PITR window among the stack's tenants' tiers. */
  readonly backupRetentionDays: number;
  /**
   * What RDS's max_connections formula yields on this class, at least (tiers/sizing.ts): fixed by the
   * class, never by the tenants, so adding one changes no static parameter.
   */
  readonly maxConnections: number;
  /** Connections its tenants can open at their peak, reserved ones included. */
  readonly requiredConnections: number;
}

interface RedisSpec {
  readonly nodeType: string;
  readonly multiAz: boolean;
}

/** One PostgreSQL server and one Valkey group, and the tenants they serve. */
export interface DataShardSpec {
  /** `undefined` for the stack's first shard, whose resources carry the stack's own names. */
  readonly name?: string;
  readonly postgres: PostgresSpec;
  readonly redis: RedisSpec;
  readonly tenants: readonly string[];
}

interface DataSpec {
  /** The first shard's server and cache (`shards[0]`). */
  readonly postgres: PostgresSpec;
  readonly redis: RedisSpec;
  /** Every shard, the first one first. */
  readonly shards: readonly DataShardSpec[];
  readonly backupWindow: string;
  readonly maintenanceWindow: string;
  readonly protect: boolean;
  /** The strictest tier among the tenants: shared data stores must meet its contract. */
  readonly strictestTier: TierName;
}

interface DrSpec {
  /** Cross-region mechanisms run in production; other environments relax them. */
  readonly enabled: boolean;
  /** A warm standby (cross-region read replica, DR network) for critical tenants. */
  readonly warmStandby: boolean;
  readonly network?: { readonly cidr: string; readonly zones: readonly string[] };
}
