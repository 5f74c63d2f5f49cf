/** Rules on a stack's cluster: a Kubernetes version with add-on builds, a closed API endpoint, sound node pools. */
import { parseCidr } from "../../model/cidr";
import { PROJECT } from "../../model/stack";
import { EKS_VERSIONS, eksVersion } from "../../tiers/catalogue";
import type { SpecProblem } from "../errors";
import type { Parsed } from "../schema";

export function clusterChecks(parsed: Parsed): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const environment = parsed[`${PROJECT}:environment`];
  const cluster = parsed[`${PROJECT}:cluster`];
  if (!cluster) return problems;
  // Whether the version is still in standard support depends on the day: policies check that.
  if (eksVersion(cluster.kubernetesVersion)?.addons === undefined) {
    const pinned = EKS_VERSIONS.filter((v) => v.addons !== undefined).map((v) => v.version);
    add(`${PROJECT}:cluster.kubernetesVersion`, `${cluster.kubernetesVersion} has no add-on builds in the EKS calendar (model/eks-versions.ts); use ${pinned.join(" or ")}`);
  }
  cluster.endpointPublicAccessCidrs.forEach((cidr, i) => {
    const path = `${PROJECT}:cluster.endpointPublicAccessCidrs[${i}]`;
    try {
      if (parseCidr(cidr).prefix === 0) add(path, "0.0.0.0/0 would leave the API endpoint open to the internet");
    } catch (error) {
      add(path, (error as Error).message);
    }
  });
  if (environment === "production" && cluster.endpointPublicAccessCidrs.length > 0) {
    add(`${PROJECT}:cluster.endpointPublicAccessCidrs`, "production clusters keep the API endpoint private; deploy from inside the VPC");
  }
  const poolNames = new Set<string>();
  cluster.nodePools.forEach((pool, i) => {
    const path = `${PROJECT}:cluster.nodePools[${i}]`;
    if (poolNames.has(pool.name)) add(`${path}.name`, `node pool ${pool.name} is declared twice`);
    poolNames.add(pool.name);
    if (pool.maxPerZone < pool.minPerZone) add(`${path}.maxPerZone`, `${pool.maxPerZone} is below minPerZone ${pool.minPerZone}`);
  });
  if (cluster.nodePools.every((pool) => pool.dedicatedTo !== undefined)) {
    add(`${PROJECT}:cluster.nodePools`, "at least one pool must not be dedicated to a tenant: cluster add-ons need somewhere to run");
  }
  return problems;
}
