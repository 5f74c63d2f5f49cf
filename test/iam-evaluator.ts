/**
 * A small IAM evaluator for tests: Allow/Deny, Action or NotAction, * and ? in Action and Resource, the
 * condition operators the policies use, and (for resource policies such as key and file system
 * policies) Principal. `authorize` combines identity and resource policies as AWS does within one
 * account: an explicit Deny in either wins, else an Allow in either suffices.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */

type Condition = Record<string, Record<string, string | string[] | boolean>>;
export interface Statement {
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  /** @default any resource (trust policies name none) */
  Resource?: string | string[];
  Condition?: Condition;
  /** Resource policies only: whom the statement applies to. */
  Principal?: "*" | { AWS?: string | string[]; Service?: string | string[]; Federated?: string | string[] };
}
export interface PolicyDoc {
  Statement: Statement[];
}
/** A client that signs nothing (an NFS mount without `iam`): only a "*" principal matches it. */
export const ANONYMOUS = "anonymous";
export interface Request {
  action: string;
  resource: string;
  context?: Record<string, string>;
  /**
   * Who asks, for resource policies (statements with a Principal): a role ARN, ANONYMOUS, or a service.
   * An account's root principal (`arn:aws:iam::<account>:root`) in a statement stands for every principal
   * of that account, as in a key policy that delegates to IAM: the evaluator then answers for the
   * resource policy's side only.
   * @default none: Principal is not looked at (identity policies)
   */
  principal?: string | { AWS?: string; Service?: string };
}

export const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const glob = (pattern: string, value: string, caseInsensitive = false) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, caseInsensitive ? "i" : "").test(value);

/** One operator on one key. A missing key fails a positive operator and satisfies a negated one (IAM's rule); Null tests presence. */
function operatorHolds(operator: string, expected: string[], actual: string | undefined): boolean {
  if (operator === "Null") return expected.includes(String(actual === undefined));
  const negated = /^(String|Arn)Not/.test(operator);
  if (actual === undefined) return negated;
  switch (operator) {
    case "StringEquals":
    case "Bool":
      return expected.includes(actual);
    case "StringLike":
    case "ArnEquals":
    case "ArnLike":
      return expected.some((v) => glob(v, actual));
    case "StringNotEquals":
      return !expected.includes(actual);
    case "StringNotLike":
    case "ArnNotEquals":
    case "ArnNotLike":
      return !expected.some((v) => glob(v, actual));
    default:
      throw new Error(`the evaluator does not know condition operator ${operator}`);
  }
}

function conditionHolds(condition: Condition | undefined, context: Record<string, string>): boolean {
  return Object.entries(condition ?? {}).every(([operator, keys]) => Object.entries(keys).every(([key, expected]) => operatorHolds(operator, list(expected).map(String), context[key])));
}

function actionMatches(s: Statement, action: string): boolean {
  if (s.Action !== undefined) return list(s.Action).some((a) => glob(a, action, true));
  if (s.NotAction !== undefined) return !list(s.NotAction).some((a) => glob(a, action, true));
  throw new Error("a statement needs Action or NotAction");
}

function principalMatches(s: Statement, principal: Request["principal"]): boolean {
  if (principal === undefined || s.Principal === undefined) return true;
  if (s.Principal === "*") return true;
  const aws = list(s.Principal.AWS ?? []);
  if (principal === ANONYMOUS) return aws.includes("*");
  const who = typeof principal === "string" ? { AWS: principal } : principal;
  if (who.Service !== undefined) return list(s.Principal.Service ?? []).includes(who.Service);
  const arn = who.AWS ?? "";
  return aws.some((p) => p === "*" || p === arn || (p.endsWith(":root") && arn.startsWith(p.slice(0, -"root".length))));
}

function matching(policy: PolicyDoc, request: Request): Statement[] {
  return policy.Statement.filter(
    (s) =>
      actionMatches(s, request.action) &&
      (s.Resource === undefined || list(s.Resource).some((r) => glob(r, request.resource))) &&
      principalMatches(s, request.principal) &&
      conditionHolds(s.Condition, request.context ?? {}),
  );
}

/** Whether a policy allows a request: some Allow matches and no Deny does. */
export function allows(policy: PolicyDoc, request: Request): boolean {
  const statements = matching(policy, request);
  return statements.some((s) => s.Effect === "Allow") && !statements.some((s) => s.Effect === "Deny");
}

/**
 * Same-account evaluation of a request by `request.principal`: its identity policies (none for an
 * anonymous client) and the resource's policy. Denied on any matching Deny, else allowed on any Allow.
 */
export function authorize(policies: { identity?: readonly PolicyDoc[]; resource?: PolicyDoc }, request: Request & { principal: string }): boolean {
  const identity = request.principal === ANONYMOUS ? [] : (policies.identity ?? []);
  const statements = [...identity.flatMap((p) => matching(p, { ...request, principal: undefined })), ...(policies.resource ? matching(policies.resource, request) : [])];
  return statements.some((s) => s.Effect === "Allow") && !statements.some((s) => s.Effect === "Deny");
}
