/** Rules on the bootstrap stack's runner network. */
import { contains, formatCidr, MAX_SUBNET_PREFIX, MIN_VPC_PREFIX, overlaps, parseCidr, runnerPublicSubnet, type Cidr } from "../../model/cidr";
import { PROJECT } from "../../model/stack";
import type { SpecProblem } from "../errors";
import type { BootstrapConfig } from "../schema";

/** Runner subnets inside the runner VPC, clear of its public subnet and of each other; one pool per stack. */
export function runnerNetworkChecks(bootstrap: BootstrapConfig, region: string | undefined): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const key = `${PROJECT}:bootstrap`;
  if (region && !bootstrap.runnerNetwork.zone.startsWith(region)) problems.push({ path: `${key}.runnerNetwork.zone`, message: `${bootstrap.runnerNetwork.zone} is not in ${region}` });
  let vpc: Cidr | undefined;
  try {
    vpc = parseCidr(bootstrap.runnerNetwork.cidr);
    if (vpc.prefix < MIN_VPC_PREFIX || vpc.prefix > 24) {
      problems.push({ path: `${key}.runnerNetwork.cidr`, message: `must have a prefix between /${MIN_VPC_PREFIX} and /24, got /${vpc.prefix}` });
      vpc = undefined;
    }
  } catch (error) {
    problems.push({ path: `${key}.runnerNetwork.cidr`, message: (error as Error).message });
  }
  const publicSubnet = vpc ? parseCidr(runnerPublicSubnet(bootstrap.runnerNetwork.cidr)) : undefined;
  const seen = new Map<string, number>();
  const subnets: { index: number; cidr: Cidr }[] = [];
  bootstrap.runners.forEach((pool, i) => {
    const path = `${key}.runners[${i}]`;
    const first = seen.get(pool.stack);
    if (first !== undefined) problems.push({ path: `${path}.stack`, message: `${pool.stack} already has runners at ${key}.runners[${first}]` });
    else seen.set(pool.stack, i);
    try {
      const cidr = parseCidr(pool.cidr);
      if (cidr.prefix > MAX_SUBNET_PREFIX) problems.push({ path: `${path}.cidr`, message: `/${cidr.prefix} is smaller than AWS's smallest subnet /${MAX_SUBNET_PREFIX}` });
      if (vpc && !contains(vpc, cidr)) problems.push({ path: `${path}.cidr`, message: `${pool.cidr} is not inside the runner network ${bootstrap.runnerNetwork.cidr}` });
      if (publicSubnet && overlaps(publicSubnet, cidr)) problems.push({ path: `${path}.cidr`, message: `${pool.cidr} overlaps the runner network's public subnet ${formatCidr(publicSubnet)}` });
      const clash = subnets.find((s) => overlaps(s.cidr, cidr));
      if (clash) problems.push({ path: `${path}.cidr`, message: `${pool.cidr} overlaps ${key}.runners[${clash.index}].cidr` });
      subnets.push({ index: i, cidr });
    } catch (error) {
      problems.push({ path: `${path}.cidr`, message: (error as Error).message });
    }
  });
  return problems;
}
