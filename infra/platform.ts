import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../components/cluster";
import { Network } from "../components/network";
import type { PlatformSpec } from "./spec";
import { platformTags, tenantTags } from "./tags";

/**
 * Composes a stack from its validated spec. Components receive plain values and Inputs; none of
 * them reads configuration itself.
 */
export function buildPlatform(spec: PlatformSpec) {
  const tags = platformTags(spec);

  // Every AWS resource goes through an explicit provider, never the ambient default one, so the
  // region a resource lands in is always the one the spec names.
  const primary = new aws.Provider("primary", {
    region: spec.region as aws.Region,
    defaultTags: { tags },
  });

  const network = new Network(spec.stack, {
    cidr: spec.network.cidr,
    zones: spec.zones,
    natGateways: spec.network.natGateways,
    flowLogRetentionDays: spec.network.flowLogRetentionDays,
    tags,
  }, { providers: { aws: primary } });

  const tenantsByName = new Map(spec.tenants.map((t) => [t.name, t]));
  const poolTags: Record<string, Record<string, string>> = {};
  for (const pool of spec.cluster.nodePools) {
    const tenant = pool.dedicatedTo === undefined ? undefined : tenantsByName.get(pool.dedicatedTo);
    if (tenant) poolTags[pool.name] = tenantTags({}, tenant);
  }

  const cluster = new Cluster(spec.stack, {
    clusterName: spec.cluster.name,
    kubernetesVersion: spec.cluster.kubernetesVersion,
    subnets: network.zones.map((z) => ({ zone: z.zone, subnetId: z.privateSubnetId })),
    nodePools: spec.cluster.nodePools,
    endpointPublicAccessCidrs: spec.cluster.endpointPublicAccessCidrs,
    logRetentionDays: spec.cluster.logRetentionDays,
    deletionProtection: spec.environment === "production",
    protect: spec.environment === "production",
    tags,
    poolTags,
  }, { providers: { aws: primary } });

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
    tenants: spec.tenants.map((t) => ({ name: t.name, tier: t.tier, domains: t.domains })),
  };
}
