/**
 * A small IAM evaluator for tests: Allow/Deny, Action or NotAction, * and ? in Action and Resource, the
 * condition operators the policies use, and (for resource policies) Principal. `authorize` combines
 * identity and resource policies as AWS does within one account: an explicit Deny in either wins, else
 * an Allow in either suffices.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */

type Condition = Record<string, Record<string, string | string[] | boolean>>;
export interface Statement {
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  Resource: string | string[];
  /** Resource policies only: "*", { AWS: "*" } or { AWS: ARNs }. */
  Principal?: "*" | { AWS?: string | string[]; Service?: string | string[]; Federated?: string | string[] };
  Condition?: Condition;
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
   * Who asks: a role ARN (an assumed-role session of it matches the role) or ANONYMOUS.
   * @default none: Principal elements are not evaluated (identity policies)
   */
  principal?: string;
}

export const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const glob = (pattern: string, value: string, caseInsensitive = false) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, caseInsensitive ? "i" : "").test(value);

/** One operator on one key. A missing key fails a positive operator and satisfies a negated one (IAM's rule); Null tests presence. */
function operatorHolds(operator: string, expected: string[], actual: string | undefined): boolean {
  if (operator === "Null") return expected.includes(String(actual === undefined));
  const negated = /^String(Not)(Equals|Like)$/.exec(operator) !== null;
  if (actual === undefined) return negated;
  switch (operator) {
    case "StringEquals":
    case "Bool":
      return expected.includes(actual);
    case "StringLike":
      return expected.some((v) => glob(v, actual));
    case "StringNotEquals":
      return !expected.includes(actual);
    case "StringNotLike":
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

function principalMatches(s: Statement, principal: string | undefined): boolean {
  if (principal === undefined || s.Principal === undefined) return true;
  if (s.Principal === "*") return true;
  const aws = list(s.Principal.AWS ?? []);
  return aws.includes("*") || (principal !== ANONYMOUS && aws.includes(principal));
}

function matching(policy: PolicyDoc, request: Request): Statement[] {
  return policy.Statement.filter(
    (s) =>
      actionMatches(s, request.action) &&
      list(s.Resource).some((r) => glob(r, request.resource)) &&
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
