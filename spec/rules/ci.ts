/** Rules on a platform stack's CI settings (odoo-fleet:ci), which the bootstrap stack must match. */
import { ciEnvironmentOf, ciRoleName, type CiPurpose } from "../../model/ci";
import { overlaps, parseCidr } from "../../model/cidr";
import { PROJECT } from "../../model/stack";
import type { SpecProblem } from "../errors";
import type { Parsed } from "../schema";

/** CI roles of the stack's own CI environment, and a runner network that can be peered with the stack's. */
export function ciChecks(parsed: Parsed): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const ci = parsed[`${PROJECT}:ci`];
  const environment = parsed[`${PROJECT}:environment`];
  if (!ci) return problems;
  if (environment) {
    const env = ciEnvironmentOf(environment);
    for (const [key, purpose] of [["deployRoleArn", "deploy"], ["previewRoleArn", "preview"]] as [keyof typeof ci, CiPurpose][]) {
      const name = ci[key].split(":role/")[1]?.split("/").pop();
      if (name !== ciRoleName(purpose, env)) {
        problems.push({ path: `${PROJECT}:ci.${key}`, message: `${environment} stacks ${purpose} as ${ciRoleName(purpose, env)} (made by the bootstrap stack), got role ${name}` });
      }
    }
  }
  const path = `${PROJECT}:ci.runnerCidr`;
  try {
    const runners = parseCidr(ci.runnerCidr);
    if (runners.prefix === 0) problems.push({ path, message: "0.0.0.0/0 would admit everyone to the API endpoint" });
    // Peered networks must not overlap: the routes between them could not tell them apart.
    for (const [key, cidr] of [["network", parsed[`${PROJECT}:network`]?.cidr], ["drNetwork", parsed[`${PROJECT}:drNetwork`]?.cidr]] as const) {
      if (cidr === undefined) continue;
      try {
        if (overlaps(runners, parseCidr(cidr))) problems.push({ path, message: `${ci.runnerCidr} overlaps ${PROJECT}:${key}.cidr ${cidr}; the runner network is peered with it` });
      } catch {
        // A malformed network CIDR is reported under its own key.
      }
    }
  } catch (error) {
    problems.push({ path, message: (error as Error).message });
  }
  return problems;
}
