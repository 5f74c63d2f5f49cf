/**
 * The bootstrap stack: what must exist before any platform stack can be deployed by CI (state
 * backends, secrets keys, the GitHub OIDC provider and CI roles, the runners and their network).
 */
import { runnerLabel } from "../model/ci";
import { PROJECT, type Environment } from "../model/stack";
import { parseKeys } from "./config";
import { SpecError } from "./errors";
import { runnerNetworkChecks } from "./rules/bootstrap";
import { BOOTSTRAP_KEYS, CONFIG_KEYS, type BootstrapConfig } from "./schema";
import type { BootstrapSpec } from "./types";

export function parseBootstrapSpec(config: Readonly<Record<string, string>>, stack: string, stackFile: string): BootstrapSpec {
  const { parsed, problems } = parseKeys(config, BOOTSTRAP_KEYS, (key) =>
    key in CONFIG_KEYS ? "not used by the bootstrap stack: it owns no platform" : `unknown key; known keys are ${Object.keys(BOOTSTRAP_KEYS).join(", ")}`,
  );
  const environment = parsed[`${PROJECT}:environment`] as Environment | undefined;
  if (environment && environment !== "production") {
    problems.push({ path: `${PROJECT}:environment`, message: `the bootstrap stack holds production's state, keys and roles: environment must be production, got ${environment}` });
  }
  const bootstrap = parsed[`${PROJECT}:bootstrap`] as BootstrapConfig | undefined;
  const region = parsed["aws:region"] as string | undefined;
  if (bootstrap) problems.push(...runnerNetworkChecks(bootstrap, region));
  if (problems.length > 0) throw new SpecError(stackFile, problems);
  const spec = bootstrap!;
  return {
    mode: "bootstrap",
    project: PROJECT,
    stack,
    stackFile,
    environment: "production",
    region: region!,
    owner: parsed[`${PROJECT}:owner`] as string,
    costCentre: parsed[`${PROJECT}:costCentre`] as string,
    repository: spec.repository,
    runnerNetwork: spec.runnerNetwork,
    runnerTokenSecret: spec.runnerTokenSecret,
    runners: spec.runners.map((r) => ({ ...r, label: runnerLabel(r.stack) })),
  };
}
