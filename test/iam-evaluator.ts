/** A small IAM evaluator for tests: Allow/Deny, Action or NotAction, * and ? in Action and Resource, the condition operators the policies use. */

type Condition = Record<string, Record<string, string | string[] | boolean>>;
export interface Statement {
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  NotAction?: string | string[];
  Resource: string | string[];
  Condition?: Condition;
}
export interface PolicyDoc {
  Statement: Statement[];
}
export interface Request {
  action: string;
  resource: string;
  context?: Record<string, string>;
}

export const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const glob = (pattern: string, value: string, caseInsensitive = false) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, caseInsensitive ? "i" : "").test(value);

function conditionHolds(condition: Condition | undefined, context: Record<string, string>): boolean {
  return Object.entries(condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) => {
      const actual = context[key];
      if (actual === undefined) return false;
      const values = list(expected).map(String);
      if (operator === "StringEquals" || operator === "Bool") return values.includes(actual);
      if (operator === "StringLike") return values.some((v) => glob(v, actual));
      throw new Error(`the evaluator does not know condition operator ${operator}`);
    }),
  );
}

function actionMatches(s: Statement, action: string): boolean {
  if (s.Action !== undefined) return list(s.Action).some((a) => glob(a, action, true));
  if (s.NotAction !== undefined) return !list(s.NotAction).some((a) => glob(a, action, true));
  throw new Error("a statement needs Action or NotAction");
}

/** Whether a policy allows a request: some Allow matches and no Deny does. */
export function allows(policy: PolicyDoc, request: Request): boolean {
  const matching = policy.Statement.filter(
    (s) => actionMatches(s, request.action) && list(s.Resource).some((r) => glob(r, request.resource)) && conditionHolds(s.Condition, request.context ?? {}),
  );
  return matching.some((s) => s.Effect === "Allow") && !matching.some((s) => s.Effect === "Deny");
}
