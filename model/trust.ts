/**
 * Which AWS services can be held to the account (and resource) they act for when they assume a
 * role: the confused-deputy guard (aws:SourceAccount, aws:SourceArn) in service trust policies.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
 */

/**
 * Service principals that assume roles without a source account or ARN in the request, so a trust
 * condition on them would lock the service out. EC2 gives an instance profile's role to the
 * instance itself: no other account can pass the role to EC2 (iam:PassRole is same-account), and EC2
 * documents no source keys for it (prowler-cloud/prowler#2810 lists the false positives).
 */
export const SERVICES_WITHOUT_SOURCE_KEYS: readonly string[] = ["ec2.amazonaws.com"];
