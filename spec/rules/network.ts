/** Rules on a stack's regions, zones and networks, primary and DR. */
import { MAX_SUBNET_PREFIX, MIN_VPC_PREFIX, overlaps, parseCidr, smallestSubnetPrefix } from "../../model/cidr";
import { PROJECT } from "../../model/stack";
import { wantsWarmStandby } from "../defaults";
import type { SpecProblem } from "../errors";
import type { Parsed } from "../schema";

/** A DR region apart from the primary one; distinct primary zones, enough of them, all in the primary region. */
export function regionChecks(parsed: Parsed): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const region = parsed["aws:region"];
  const environment = parsed[`${PROJECT}:environment`];
  const zones = parsed[`${PROJECT}:zones`];
  const drRegion = parsed[`${PROJECT}:drRegion`];
  if (region && drRegion && region === drRegion) {
    add(`${PROJECT}:drRegion`, `must differ from the primary region (aws:region is ${region}); a region loss would take both`);
  }

  if (zones) {
    if (environment === "production" && zones.length < 3) {
      add(`${PROJECT}:zones`, `production stacks need 3 zones or more, got ${zones.length}`);
    }
    const seen = new Set<string>();
    zones.forEach((zone, i) => {
      if (seen.has(zone)) add(`${PROJECT}:zones[${i}]`, `${zone} is listed twice`);
      seen.add(zone);
      if (region && !zone.startsWith(region)) add(`${PROJECT}:zones[${i}]`, `${zone} is not in the primary region ${region}`);
    });
  }
  return problems;
}

/** A VPC block AWS accepts that holds the subnet layout (model/cidr.ts planSubnets) for every zone. */
export function networkChecks(parsed: Parsed): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const zones = parsed[`${PROJECT}:zones`];
  const network = parsed[`${PROJECT}:network`];
  if (network) {
    try {
      const vpc = parseCidr(network.cidr);
      if (vpc.prefix < MIN_VPC_PREFIX || vpc.prefix > MAX_SUBNET_PREFIX) {
        add(`${PROJECT}:network.cidr`, `must have a prefix between /${MIN_VPC_PREFIX} and /${MAX_SUBNET_PREFIX}, got /${vpc.prefix}`);
      } else if (zones && smallestSubnetPrefix(vpc.prefix, zones.length) > MAX_SUBNET_PREFIX) {
        add(`${PROJECT}:network.cidr`, `/${vpc.prefix} is too small for ${zones.length} zones (subnets would be smaller than /${MAX_SUBNET_PREFIX})`);
      }
    } catch (error) {
      add(`${PROJECT}:network.cidr`, (error as Error).message);
    }
  }
  return problems;
}

/** A DR network where a warm standby needs one: in the DR region, large enough, clear of the primary network. */
export function drNetworkChecks(parsed: Parsed): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const drRegion = parsed[`${PROJECT}:drRegion`];
  const drNetwork = parsed[`${PROJECT}:drNetwork`];
  const network = parsed[`${PROJECT}:network`];
  const needsWarmStandby = parsed[`${PROJECT}:kind`] === "dedicated" && wantsWarmStandby(parsed[`${PROJECT}:environment`], parsed[`${PROJECT}:tenants`] ?? []);
  if (needsWarmStandby && drNetwork === undefined) {
    add(`${PROJECT}:drNetwork`, "is required: critical tenants in production get a warm standby in the DR region, which needs its own network");
  }
  if (drNetwork) {
    drNetwork.zones.forEach((zone, i) => {
      if (drRegion && !zone.startsWith(drRegion)) add(`${PROJECT}:drNetwork.zones[${i}]`, `${zone} is not in the DR region ${drRegion}`);
    });
    try {
      const dr = parseCidr(drNetwork.cidr);
      if (dr.prefix < MIN_VPC_PREFIX || smallestSubnetPrefix(dr.prefix, drNetwork.zones.length) > MAX_SUBNET_PREFIX) {
        add(`${PROJECT}:drNetwork.cidr`, `/${dr.prefix} cannot hold subnets for ${drNetwork.zones.length} zones`);
      }
      if (network) {
        const primary = parseCidr(network.cidr);
        // Distinct blocks keep peering or a transit gateway between the regions possible.
        if (overlaps(primary, dr)) add(`${PROJECT}:drNetwork.cidr`, `${drNetwork.cidr} overlaps the primary network ${network.cidr}`);
      }
    } catch (error) {
      add(`${PROJECT}:drNetwork.cidr`, (error as Error).message);
    }
  }
  return problems;
}
