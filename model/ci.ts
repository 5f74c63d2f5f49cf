/**
 * One home for the names CI and the bootstrap stack agree on: the CI roles, the Pulumi secrets keys,
 * the state buckets and the runner labels. The bootstrap stack creates what these name; platform
 * stacks, workflows and the offline plan check against them.
 */
import { ENVIRONMENTS, PROJECT, type Environment } from "./stack";

/**
 * CI credentials are split by blast radius: production stacks use `prod` roles, keys and state;
 * everything else (development, staging, review stacks) uses `dev`. Pull-request code never holds a
 * `prod` credential that can write.
 */
export const CI_ENVIRONMENTS = ["dev", "prod"] as const;
export type CiEnvironment = (typeof CI_ENVIRONMENTS)[number];

export function ciEnvironmentOf(environment: Environment): CiEnvironment {
  return environment === "production" ? "prod" : "dev";
}

/**
 * The CI environment of a stack from its raw configuration, for checks made before the spec parses
 * (the stack file's secrets provider). A stack without a valid environment is held to `prod`.
 */
export function ciEnvironmentOfConfig(config: Readonly<Record<string, string>>): CiEnvironment {
  const environment = config[`${PROJECT}:environment`];
  return (ENVIRONMENTS as readonly string[]).includes(environment ?? "") ? ciEnvironmentOf(environment as Environment) : "prod";
}

/**
 * The `environment` tag of what belongs to one CI environment (its state backend, key and roles):
 * the dev roles' production guard denies changes to whatever is tagged production, so the dev
 * environment's own resources must not be.
 */
export function environmentTagOf(env: CiEnvironment): Environment {
  return env === "prod" ? "production" : "development";
}

/** `deploy` runs `pulumi up`; `preview` runs previews of pull requests and the nightly drift check. */
export type CiPurpose = "deploy" | "preview";

/** IAM role names are unique per account: one per purpose and CI environment. */
export function ciRoleName(purpose: CiPurpose, env: CiEnvironment): string {
  return `odoo-fleet-ci-${purpose}-${env}`;
}

/** The KMS alias of the key that encrypts the Pulumi secrets of a CI environment's stacks. */
export function secretsKeyAlias(env: CiEnvironment): string {
  return `alias/odoo-fleet-pulumi-${env}`;
}

/** What `secretsprovider:` says in a stack file, as `pulumi stack change-secrets-provider` writes it. */
export function secretsProviderUrl(env: CiEnvironment, region: string): string {
  return `awskms://${secretsKeyAlias(env)}?region=${region}`;
}

/** State buckets are global: the account id keeps the name unique. */
export function stateBucketName(env: CiEnvironment, accountId: string): string {
  return `odoo-fleet-pulumi-state-${env}-${accountId}`;
}

/** The self-hosted runner label whose runners can reach a platform stack's private API endpoint. */
export function runnerLabel(stack: string): string {
  return `odoo-fleet-${stack}`;
}

/** Tag keys by which a platform stack finds the runner network the bootstrap stack made for it. */
export const RUNNER_NETWORK_TAG = "odoo-fleet/runner-network";
export const RUNNER_LABEL_TAG = "odoo-fleet/runner-label";

/** Value of RUNNER_NETWORK_TAG on the bootstrap stack's runner VPC. */
export const RUNNER_NETWORK = "bootstrap";

/**
 * `environment` tag of the runner VPC. Not production: every platform stack, development ones
 * included, makes a peering with this VPC as accepter, which the dev roles' production guard would
 * deny. Not development either: the VPC serves production runners too. `ci` names what it is; the
 * required-tags policy asks only that the tag be present. Everything else shared in that network
 * (NAT, internet gateway, public subnet, security group, flow log) stays production, out of dev's reach.
 */
export const RUNNER_NETWORK_ENVIRONMENT = "ci";

/** Every CI role's name (ciRoleName), as an IAM resource pattern. */
export const CI_ROLE_NAME_PATTERN = "odoo-fleet-ci-*";

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

export interface SecretsProviderProblem {
  readonly path: "secretsprovider" | "encryptedkey";
  readonly message: string;
}

/**
 * Checks a stack file's `secretsprovider` and `encryptedkey` against the key the bootstrap stack
 * creates for its CI environment. Pulumi reads these two top-level keys, not `config:`.
 */
export function secretsProviderProblems(doc: { secretsprovider?: unknown; encryptedkey?: unknown }, env: CiEnvironment): SecretsProviderProblem[] {
  const problems: SecretsProviderProblem[] = [];
  const expected = secretsKeyAlias(env);
  if (typeof doc.secretsprovider !== "string") {
    problems.push({ path: "secretsprovider", message: `is required: awskms://${expected}?region=<region of the bootstrap stack>, so stack secrets are encrypted with the platform's own key` });
  } else {
    const match = /^awskms:\/\/([^?]+)\?region=([^&]+)$/.exec(doc.secretsprovider);
    if (!match) problems.push({ path: "secretsprovider", message: `must be awskms://${expected}?region=<region>, got ${doc.secretsprovider}` });
    else {
      if (match[1] !== expected) problems.push({ path: "secretsprovider", message: `names ${match[1]}, but ${env} stacks use the bootstrap stack's key ${expected}` });
      if (!AWS_REGION.test(match[2]!)) problems.push({ path: "secretsprovider", message: `region ${match[2]} is not an AWS region` });
    }
  }
  if (typeof doc.encryptedkey !== "string" || doc.encryptedkey.length === 0) {
    problems.push({ path: "encryptedkey", message: "is required: the data key as `pulumi stack change-secrets-provider` writes it" });
  }
  return problems;
}

/** Protection a GitHub environment must have in the repository's settings. */
export interface GithubEnvironmentProtection {
  /** A required reviewer approves every job that names the environment before it starts. */
  readonly requiredReviewers: boolean;
  /** Branches whose runs may use it; `all` where pull requests (from any branch) use it. */
  readonly deploymentBranches: readonly string[] | "all";
}

/**
 * The GitHub environments the workflows name, and the protection each needs (README, "From an empty
 * AWS account"). The deploy roles trust the OIDC subjects `repo:<repo>:environment:<name>` of these
 * (ciSubjects), and a workflow a pull request edits can name any environment, so these rules, kept
 * by GitHub and not by the workflow file, are what stands between code and a deploy role.
 * `production` deploys merged code after a reviewer; `review` deploys pull-request code onto
 * shared-dev, so it waits for a reviewer too; `development` takes main only.
 * https://docs.github.com/actions/reference/deployments-and-environments
 */
export const GITHUB_ENVIRONMENTS: Readonly<Record<"production" | "development" | "review", GithubEnvironmentProtection>> = {
  production: { requiredReviewers: true, deploymentBranches: ["main"] },
  development: { requiredReviewers: false, deploymentBranches: ["main"] },
  review: { requiredReviewers: true, deploymentBranches: "all" },
};

/**
 * Runner group of the production runner pools, in the organisation that owns the repository. A label
 * is a string any workflow may ask for, a pull request's edited workflow included; a group restricted
 * to selected workflows is not: GitHub gives its runners only jobs defined in those workflows at the
 * ref named. The group is made by hand (README), with productionRunnerWorkflows as its workflow list.
 * https://docs.github.com/en/actions/how-tos/hosting-your-own-runners/managing-self-hosted-runners/managing-access-to-self-hosted-runners-using-groups
 */
export const PRODUCTION_RUNNER_GROUP = "odoo-fleet-production";

/** The workflow files whose jobs may run on production runners: merged code only, from main. */
export const PRODUCTION_RUNNER_WORKFLOWS = ["deploy.yml", "drift.yml"] as const;

/** The runner group's "selected workflows", as GitHub takes them: `<owner>/<repo>/<path>@<ref>`. */
export function productionRunnerWorkflows(repository: string): string[] {
  return PRODUCTION_RUNNER_WORKFLOWS.map((file) => `${repository}/.github/workflows/${file}@main`);
}

/**
 * The break-glass role the bootstrap stack creates: assumed by people with MFA, never by CI. The
 * only principal a key policy lets delete or disable a KMS key (components/data/keys.ts), and the
 * role the bootstrap stack is deployed as once it exists.
 */
export const BREAK_GLASS_ROLE_NAME = "odoo-fleet-break-glass";

/** The ARN of role `name` in the account (and partition) of another role's ARN. */
export function roleArnBesides(roleArn: string, name: string): string {
  const match = /^(arn:[^:]+:iam::\d{12}:role\/)/.exec(roleArn);
  if (!match) throw new Error(`${roleArn} is not an IAM role ARN`);
  return `${match[1]}${name}`;
}
