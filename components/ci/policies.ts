/** IAM documents of the CI identities, as pure functions. */
import type { CiEnvironment, CiPurpose } from "../../model/ci";
import { webIdentityTrustPolicy, type PolicyDocument } from "../iam";

export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/**
 * The OIDC `sub` claims that may assume a role. GitHub puts the job's environment in `sub` when the
 * job has one (`repo:<repo>:environment:<name>`), else the event: pull requests get
 * `repo:<repo>:pull_request`, the nightly drift run on main `repo:<repo>:ref:refs/heads/main`.
 * https://docs.github.com/en/actions/deployment/security-hardening-your-deployments/about-security-hardening-with-openid-connect
 * Deploys come only from the workflow environments (whose protection rules gate production).
 * Previews run the checked-out code with the role's credentials: the dev preview role takes pull
 * requests and main, the prod one main only (merged, reviewed code: drift), since it can decrypt
 * production secrets and read the clusters' Secrets. Pull requests preview production offline.
 */
export function ciSubjects(purpose: CiPurpose, env: CiEnvironment, repository: string): string[] {
  const repo = `repo:${repository}`;
  if (purpose === "preview") return env === "prod" ? [`${repo}:ref:refs/heads/main`] : [`${repo}:pull_request`, `${repo}:ref:refs/heads/main`];
  return env === "prod" ? [`${repo}:environment:production`] : [`${repo}:environment:development`, `${repo}:environment:review`];
}

/** Trust policy: GitHub's OIDC tokens for STS, from the given subjects only. */
export function githubTrustPolicy(oidcProviderArn: string, subjects: readonly string[]): PolicyDocument {
  return webIdentityTrustPolicy(oidcProviderArn, { [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com", [`${GITHUB_OIDC_HOST}:sub`]: [...subjects] });
}

/**
 * A first `pulumi up` of a production stack (VPC, EKS, node groups, RDS Multi-AZ, add-ons, charts)
 * runs well past an hour; its credentials must outlast it. The deploy workflows ask for exactly this
 * (`role-duration-seconds`); IAM allows up to 12 hours.
 */
export const DEPLOY_SESSION_SECONDS = 4 * 3600;
/** A preview with refresh of the largest stack, with margin. */
export const PREVIEW_SESSION_SECONDS = 2 * 3600;

/**
 * What a preview role needs beyond read-only access: the state (read, and lock files: the S3 backend
 * writes a lock under `.pulumi/locks/` for every operation) and decrypting with its CI environment's
 * key (stack secrets, SSE-KMS state objects).
 */
export function previewStatePolicy(args: { bucketArn: string; keyArn: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ListState", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: args.bucketArn },
      { Sid: "ReadState", Effect: "Allow", Action: ["s3:GetObject"], Resource: `${args.bucketArn}/*` },
      { Sid: "Locks", Effect: "Allow", Action: ["s3:PutObject", "s3:DeleteObject"], Resource: `${args.bucketArn}/.pulumi/locks/*` },
      { Sid: "Secrets", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], Resource: args.keyArn },
    ],
  };
}

/**
 * Guard of the dev roles, which run pull-request code (review stacks) or review it (previews): no
 * access to the production state and key, no change to anything tagged for production, and no
 * change to any CI role: the dev roles are tagged development (their environment's), and a dev
 * deploy role (AdministratorAccess) could otherwise delete this very guard from itself. One account
 * holds both environments here; an account per environment would make this a boundary.
 */
export function denyProductionPolicy(args: { prodBucketArn: string; prodKeyArn: string; ciRoleArnPattern: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "NoProductionState", Effect: "Deny", Action: "s3:*", Resource: [args.prodBucketArn, `${args.prodBucketArn}/*`] },
      { Sid: "NoProductionKey", Effect: "Deny", Action: "kms:*", Resource: args.prodKeyArn },
      { Sid: "NoCiRoles", Effect: "Deny", NotAction: ["iam:Get*", "iam:List*"], Resource: args.ciRoleArnPattern },
      {
        Sid: "NoProductionResources",
        Effect: "Deny",
        NotAction: ["ec2:Describe*", "eks:Describe*", "eks:List*", "iam:Get*", "iam:List*", "s3:List*", "s3:GetBucket*", "tag:Get*", "cloudwatch:Describe*", "logs:Describe*"],
        Resource: "*",
        Condition: { StringEquals: { "aws:ResourceTag/environment": "production" } },
      },
    ],
  };
}

/**
 * The runner instance's own permissions, used once at boot: read the registration token's secret,
 * then turn off its own metadata endpoint (instances carrying a runner label only).
 */
export function runnerInstancePolicy(args: { secretArnPattern: string; labelTag: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "RegistrationToken", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: args.secretArnPattern },
      {
        Sid: "DisableOwnMetadata",
        Effect: "Allow",
        Action: "ec2:ModifyInstanceMetadataOptions",
        Resource: "*",
        Condition: { StringLike: { [`aws:ResourceTag/${args.labelTag}`]: "odoo-fleet-*" } },
      },
    ],
  };
}

/**
 * GitHub Actions runner release the instances install first (https://github.com/actions/runner/releases).
 * A floor, not a pin: runners keep self-update on, because GitHub refuses jobs to runners older than
 * its supported versions once updates are disabled (runners must then be updated within 30 days of a
 * release), and a runner "automatically updates itself when a job is assigned" to it
 * (https://docs.github.com/en/actions/concepts/runners/communicating-with-self-hosted-runners).
 * An ephemeral runner updates at most once, before its one job; `run.sh` restarts it after the update.
 */
export const RUNNER_VERSION = "2.329.0";

/**
 * User data of an ephemeral runner: installs the runner, registers it with one label for one job,
 * with the repository, or, given a runner group, with the repository owner's organisation into that
 * group (`--runnergroup`; the organisation's registration token: "Self-hosted runners" write),
 * then turns the instance metadata endpoint off, so nothing a job runs (root included: jobs get
 * passwordless sudo for apt) can take the instance role's credentials; jobs assume their own role
 * through GitHub's OIDC. It runs one job and powers off; the instance terminates on shutdown and the
 * Auto Scaling group starts a fresh one.
 */
export function runnerUserData(args: { repository: string; label: string; tokenSecretId: string; region: string; runnerGroup?: string }): string {
  const org = args.repository.split("/")[0]!;
  const scope = args.runnerGroup === undefined ? { api: `repos/${args.repository}`, url: args.repository, group: "" } : { api: `orgs/${org}`, url: org, group: ` --runnergroup ${args.runnerGroup}` };
  return `#!/bin/bash
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends curl jq unzip ca-certificates git
curl -fsSL https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip -o /tmp/awscli.zip
unzip -q /tmp/awscli.zip -d /tmp && /tmp/aws/install
useradd --create-home --shell /bin/bash runner
echo 'runner ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/runner
cd /home/runner
curl -fsSL https://github.com/actions/runner/releases/download/v${RUNNER_VERSION}/actions-runner-linux-x64-${RUNNER_VERSION}.tar.gz | tar xz
./bin/installdependencies.sh
chown -R runner: /home/runner
token=$(aws secretsmanager get-secret-value --region ${args.region} --secret-id ${args.tokenSecretId} --query SecretString --output text)
registration=$(curl -fsS -X POST -H "Authorization: Bearer $token" -H "Accept: application/vnd.github+json" https://api.github.com/${scope.api}/actions/runners/registration-token | jq -r .token)
unset token
sudo -u runner ./config.sh --unattended --ephemeral --url https://github.com/${scope.url}${scope.group} --token "$registration" --labels ${args.label} --name "${args.label}-$(hostname)"
imds=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
instance=$(curl -fsS -H "X-aws-ec2-metadata-token: $imds" http://169.254.169.254/latest/meta-data/instance-id)
aws ec2 modify-instance-metadata-options --region ${args.region} --instance-id "$instance" --http-endpoint disabled
sudo -u runner ./run.sh || true
shutdown -h now
`;
}
