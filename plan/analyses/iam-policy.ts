/**
 * A small, pure evaluator of IAM identity-policy statements, for the isolation analysis to ask "may this
 * role do that action on that resource": explicit Deny wins, else any Allow, else the implicit deny
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
 * Action and NotAction, Resource and NotResource with `*` and `?`; the string, ARN, Bool and Null
 * condition operators with IfExists. A condition key absent from the request makes its condition
 * false, a negated one (StringNotLike…) true, and one ending in IfExists true, as in AWS
 * (reference_policies_elements_condition_operators.html, "Important"). An operator this evaluator does not know is
 * read the cautious way for an isolation check: an Allow's condition holds, a Deny's does not.
 */

type Obj = Record<string, unknown>;

export interface IamRequest {
  action: string;
  resource: string;
  /** Condition keys and their values in the request (e.g. `s3:prefix`). */
  context?: Readonly<Record<string, string>>;
}

export type IamDecision = "allow" | "explicit-deny" | "implicit-deny";

const list = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const strings = (value: unknown): string[] => list(value).filter((v): v is string | number | boolean => ["string", "number", "boolean"].includes(typeof v)).map(String);

const compiled = new Map<string, RegExp>();

/** IAM's wildcards: `*` any run of characters, `?` one; compiled once per pattern. */
export function glob(pattern: string, value: string, caseInsensitive = false): boolean {
  const key = `${caseInsensitive ? "i" : "s"}${pattern}`;
  let regex = compiled.get(key);
  if (!regex) {
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    regex = new RegExp(`^${source}$`, caseInsensitive ? "is" : "s");
    compiled.set(key, regex);
  }
  return regex.test(value);
}

/** The statements of a policy document, given as JSON text or as an object; none when unreadable. */
export function statementsOf(document: unknown): Obj[] {
  let doc = document;
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch {
      return [];
    }
  }
  if (!doc || typeof doc !== "object") return [];
  return list((doc as Obj).Statement).filter((s): s is Obj => !!s && typeof s === "object");
}

function conditionHolds(condition: unknown, context: Readonly<Record<string, string>>, effect: string): boolean {
  if (!condition || typeof condition !== "object") return true;
  return Object.entries(condition as Obj).every(([rawOperator, keys]) => {
    const operator = rawOperator.replace(/^For(Any|All)Value:/, "");
    const ifExists = operator.endsWith("IfExists");
    const base = ifExists ? operator.slice(0, -"IfExists".length) : operator;
    return Object.entries((keys ?? {}) as Obj).every(([key, expected]) => {
      const values = strings(expected);
      const actual = context[key];
      if (base === "Null") return values.includes(String(actual === undefined));
      if (actual === undefined) return ifExists || /Not/.test(base);
      switch (base) {
        case "StringEquals":
        case "ArnEquals":
        case "Bool":
          return values.includes(actual);
        case "StringEqualsIgnoreCase":
          return values.some((v) => v.toLowerCase() === actual.toLowerCase());
        case "StringNotEquals":
        case "ArnNotEquals":
          return !values.includes(actual);
        case "StringLike":
        case "ArnLike":
          return values.some((v) => glob(v, actual));
        case "StringNotLike":
        case "ArnNotLike":
          return !values.some((v) => glob(v, actual));
        default:
          return effect === "Allow";
      }
    });
  });
}

function statementApplies(s: Obj, request: IamRequest): boolean {
  const actionOk = s.Action !== undefined ? strings(s.Action).some((a) => glob(a, request.action, true)) : s.NotAction !== undefined ? !strings(s.NotAction).some((a) => glob(a, request.action, true)) : false;
  if (!actionOk) return false;
  const resourceOk = s.Resource !== undefined ? strings(s.Resource).some((r) => glob(r, request.resource)) : s.NotResource !== undefined ? !strings(s.NotResource).some((r) => glob(r, request.resource)) : false;
  return resourceOk && conditionHolds(s.Condition, request.context ?? {}, String(s.Effect));
}

/** What the statements (of every policy of one identity together) decide for the request. */
export function decide(statements: readonly Obj[], request: IamRequest): IamDecision {
  const applying = statements.filter((s) => statementApplies(s, request));
  if (applying.some((s) => s.Effect === "Deny")) return "explicit-deny";
  return applying.some((s) => s.Effect === "Allow") ? "allow" : "implicit-deny";
}
