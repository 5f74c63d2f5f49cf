/**
 * Every rule of a platform stack that spans keys, in the order its problems are reported. Each reads
 * whatever parsed, so one bad key does not hide the others' problems.
 */
import { PROJECT } from "../../model/stack";
import type { SpecProblem } from "../errors";
import type { Parsed } from "../schema";
import { capacityChecks } from "./capacity";
import { ciChecks } from "./ci";
import { clusterChecks } from "./cluster";
import { dataChecks } from "./data";
import { drNetworkChecks, networkChecks, regionChecks } from "./network";
import { dedicatedTenantChecks, posixIdChecks, tenantListChecks } from "./tenants";

export function platformChecks(parsed: Parsed, raw: Record<string, unknown>, stack: string): SpecProblem[] {
  const { problems: tenantListProblems, names } = tenantListChecks(parsed[`${PROJECT}:kind`], raw);
  return [
    ...regionChecks(parsed),
    ...networkChecks(parsed),
    ...clusterChecks(parsed),
    ...tenantListProblems,
    ...dedicatedTenantChecks(parsed, raw, names),
    ...dataChecks(parsed, stack),
    ...posixIdChecks(parsed),
    ...drNetworkChecks(parsed),
    ...capacityChecks(parsed),
    ...ciChecks(parsed),
  ];
}
