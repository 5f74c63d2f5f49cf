import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CiRoles } from "../components/ci/ci-roles";
import { ciSubjects, GITHUB_OIDC_HOST } from "../components/ci/policies";
import { RunnerNetwork } from "../components/ci/runner-network";
import { RunnerPool } from "../components/ci/runner-pool";
import { StateBackend } from "../components/ci/state-backend";
import { BreakGlassRole } from "../components/ci/break-glass";
import { BREAK_GLASS_ROLE_NAME, CI_ENVIRONMENTS, CI_ROLE_NAME_PATTERN, ciRoleName, environmentTagOf, PRODUCTION_RUNNER_GROUP, productionRunnerWorkflows, RUNNER_LABEL_TAG, RUNNER_NETWORK, RUNNER_NETWORK_ENVIRONMENT, RUNNER_NETWORK_TAG, secretsKeyAlias, secretsProviderUrl, stateBucketName, type CiEnvironment } from "../model/ci";
import type { BootstrapSpec } from "../spec/index";
import type { Tags } from "../model/tags";

/** Tags of the bootstrap stack's resources (the platform stacks' set, with its own kind). */
export function bootstrapTags(spec: Pick<BootstrapSpec, "project" | "stack" | "environment" | "owner" | "costCentre">): Tags {
  return {
    project: spec.project,
    stack: spec.stack,
    environment: spec.environment,
    "stack-kind": "bootstrap",
    owner: spec.owner,
    "cost-centre": spec.costCentre,
    "managed-by": "pulumi",
  };
}

/**
 * What CI needs before it can deploy any platform stack, deployed first and by hand with
 * administrator credentials (README, "From an empty AWS account"): per CI environment a state
 * backend and its secrets key and the deploy and preview roles; the GitHub OIDC provider; the
 * runners, one label per platform stack, in a VPC each platform stack peers with. CI cannot change
 * this stack: its roles are made here.
 *
 * The provider's default tags say production (the stack's environment); resources of the dev CI
 * environment and the runner network's per-label parts override `environment` with their own tags,
 * which win over default tags for the same key. The dev roles' guard (denyProductionPolicy) denies
 * changes to production-tagged resources, so what dev CI must use or change may not carry it.
 * https://registry.terraform.io/providers/hashicorp/aws/latest/docs#default_tags-configuration-block
 */
export async function buildBootstrap(spec: BootstrapSpec) {
  const tags = bootstrapTags(spec);
  const primary = new aws.Provider("primary", { region: spec.region as aws.Region, defaultTags: { tags } });
  const inPrimary = { providers: { aws: primary } };
  const accountId = aws.getCallerIdentityOutput({}, { provider: primary }).accountId;

  const ciTags = (env: CiEnvironment): Tags => ({ ...tags, environment: environmentTagOf(env) });

  // First, so the state keys can name it; the stack is deployed as this role once it exists (README).
  const breakGlass = new BreakGlassRole("break-glass", { roleName: BREAK_GLASS_ROLE_NAME, accountId, tags }, inPrimary);
  const breakGlassArn = breakGlass.roleArn;
  const roleArn = (name: string) => pulumi.all([aws.getPartitionOutput({}, { provider: primary }).partition, accountId]).apply(([p, account]) => `arn:${p}:iam::${account}:role/${name}`);

  const backends = Object.fromEntries(CI_ENVIRONMENTS.map((env) => [env, new StateBackend(`pulumi-${env}`, {
    bucketName: accountId.apply((account) => stateBucketName(env, account)),
    keyAlias: secretsKeyAlias(env).replace(/^alias\//, ""),
    // Bootstrap is not deployed by CI: the break-glass role administers these keys. The CI roles
    // are named by ARN (a condition, not a principal), so the keys may precede the roles. The
    // break-glass role also uses them: `pulumi stack change-secrets-provider` (README) runs as it.
    keyAdministration: { administratorArns: [], breakGlassRoleArn: breakGlassArn },
    keyUsers: [roleArn(ciRoleName("deploy", env)), roleArn(ciRoleName("preview", env)), breakGlassArn],
    tags: ciTags(env),
  }, { ...inPrimary, dependsOn: [breakGlass] })])) as Record<CiEnvironment, StateBackend>;

  // One per account and issuer URL; AWS no longer needs thumbprints for GitHub's issuer.
  const github = new aws.iam.OpenIdConnectProvider("github-actions", {
    url: `https://${GITHUB_OIDC_HOST}`,
    clientIdLists: ["sts.amazonaws.com"],
    tags: { ...tags, Name: "github-actions" },
  }, { provider: primary, protect: true });

  const roles = Object.fromEntries(CI_ENVIRONMENTS.map((env) => [env, new CiRoles(`ci-${env}`, {
    deployRoleName: ciRoleName("deploy", env),
    previewRoleName: ciRoleName("preview", env),
    deploySubjects: ciSubjects("deploy", env, spec.repository),
    previewSubjects: ciSubjects("preview", env, spec.repository),
    oidcProviderArn: github.arn,
    state: { bucketArn: backends[env].bucketArn, keyArn: backends[env].keyArn },
    ...(env === "prod" ? {} : { denyProduction: { bucketArn: backends.prod.bucketArn, keyArn: backends.prod.keyArn, ciRoleNamePattern: CI_ROLE_NAME_PATTERN } }),
    tags: ciTags(env),
  }, inPrimary)])) as Record<CiEnvironment, CiRoles>;
  // No CI role may change, re-create or assume the break-glass role (it alone deletes keys).
  breakGlass.guard(Object.fromEntries(CI_ENVIRONMENTS.flatMap((env) => [[`deploy-${env}`, roles[env].deployRoleArn], [`preview-${env}`, roles[env].previewRoleArn]])));

  const network = new RunnerNetwork("runners", {
    cidr: spec.runnerNetwork.cidr,
    zone: spec.runnerNetwork.zone,
    subnets: spec.runners.map((r) => ({ label: r.label, cidr: r.cidr, environment: r.environment })),
    lookupTags: { network: { [RUNNER_NETWORK_TAG]: RUNNER_NETWORK }, labelKey: RUNNER_LABEL_TAG },
    vpcEnvironment: RUNNER_NETWORK_ENVIRONMENT,
    tags,
  }, inPrimary);
  for (const pool of spec.runners) {
    new RunnerPool(pool.stack, {
      label: pool.label,
      labelTag: RUNNER_LABEL_TAG,
      repository: spec.repository,
      subnetId: network.subnetIds[pool.label]!,
      securityGroupId: network.securityGroupId,
      tokenSecretName: spec.runnerTokenSecret,
      region: spec.region,
      // Production runners take jobs of the workflows that run merged code only; a label alone would
      // give them to any workflow, one a pull request edits included.
      ...(pool.environment === "production" ? { runnerGroup: PRODUCTION_RUNNER_GROUP } : {}),
      accountId,
      instanceType: pool.instanceType,
      size: pool.count,
      tags,
    }, inPrimary);
  }

  const perEnvironment = <T>(value: (env: CiEnvironment) => T) => Object.fromEntries(CI_ENVIRONMENTS.map((env) => [env, value(env)])) as Record<CiEnvironment, T>;
  return {
    // `pulumi login <backendUrls.env>`; stack files name `secretsProviders.env`.
    backendUrls: perEnvironment((env) => pulumi.interpolate`s3://${backends[env].bucketName}?region=${spec.region}`),
    secretsProviders: perEnvironment((env) => secretsProviderUrl(env, spec.region)),
    deployRoleArns: perEnvironment((env) => roles[env].deployRoleArn),
    previewRoleArns: perEnvironment((env) => roles[env].previewRoleArn),
    runnerVpcId: network.vpcId,
    runnerLabels: Object.fromEntries(spec.runners.map((r) => [r.stack, r.label])),
    // The organisation runner group to make by hand (README), restricted to these workflows.
    productionRunnerGroup: { name: PRODUCTION_RUNNER_GROUP, selectedWorkflows: productionRunnerWorkflows(spec.repository) },
  };
}
