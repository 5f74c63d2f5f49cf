/**
 * A small IAM evaluator for tests: Allow/Deny, Action or NotAction, * and ? in Action and Resource, the
 * condition operators the policies use, and (for resource policies such as key policies) Principal.
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
  Principal?: "*" | { AWS?: string | string[]; Service?: string | string[] };
}
export interface PolicyDoc {
  Statement: Statement[];
}
export interface Request {
  action: string;
  resource: string;
  context?: Record<string, string>;
  /**
   * Who asks, for resource policies (statements with a Principal). An account's root principal
   * (`arn:aws:iam::<account>:root`) stands for every principal of that account, as in a key policy
   * that delegates to IAM: the evaluator then answers for the resource policy's side only.
   * @default none: Principal is not looked at (identity policies)
   */
  principal?: { AWS?: string; Service?: string };
}

export const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const glob = (pattern: string, value: string, caseInsensitive = false) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, caseInsensitive ? "i" : "").test(value);

function conditionHolds(condition: Condition | undefined, context: Record<string, string>): boolean {
  return Object.entries(condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => {
      const actual = context[key];
      // A negated operator holds when the key is absent (IAM user guide, "Condition operators").
      const negated = /^(String|Arn)Not/.test(operator);
      if (actual === undefined) return negated;
      const values = list(expected).map(String);
      if (operator === "StringEquals" || operator === "Bool") return values.includes(actual);
      if (operator === "StringLike" || operator === "ArnEquals" || operator === "ArnLike") return values.some((v) => glob(v, actual));
      if (operator === "StringNotEquals") return !values.includes(actual);
      if (operator === "ArnNotEquals" || operator === "ArnNotLike") return !values.some((v) => glob(v, actual));
      throw new Error(`the evaluator does not know condition operator ${operator}`);
    }),
  );
}

function actionMatches(s: Statement, action: string): boolean {
  if (s.Action !== undefined) return list(s.Action).some((a) => glob(a, action, true));
  if (s.NotAction !== undefined) return !list(s.NotAction).some((a) => glob(a, action, true));
  throw new Error("a statement needs Action or NotAction");
}

function principalMatches(s: Statement, principal: Request["principal"]): boolean {
  if (!principal || s.Principal === undefined) return true;
  if (s.Principal === "*") return true;
  if (principal.Service !== undefined) return list(s.Principal.Service ?? []).includes(principal.Service);
  const arn = principal.AWS ?? "";
  return list(s.Principal.AWS ?? []).some((p) => p === "*" || p === arn || (p.endsWith(":root") && arn.startsWith(p.slice(0, -"root".length))));
}

/** Whether a policy allows a request: some Allow matches and no Deny does. */
export function allows(policy: PolicyDoc, request: Request): boolean {
  const matching = policy.Statement.filter(
    (s) => principalMatches(s, request.principal) && actionMatches(s, request.action) && (s.Resource === undefined || list(s.Resource).some((r) => glob(r, request.resource))) && conditionHolds(s.Condition, request.context ?? {}),
  );
  return matching.some((s) => s.Effect === "Allow") && !matching.some((s) => s.Effect === "Deny");
}
