/**
 * How the spec reports a stack file's problems: each with its key path, all at once, in one error
 * that `pulumi up` prints without a stack trace.
 */
import type { z } from "zod";

export interface SpecProblem {
  /** Key path, e.g. `odoo-fleet:tenants[1].tier`. */
  readonly path: string;
  readonly message: string;
}

/** Invalid stack configuration. A RunError, so `pulumi up` prints the message without a stack trace. */
export class SpecError extends Error {
  readonly problems: readonly SpecProblem[];
  readonly stackFile: string;
  /** Marks the error for Pulumi's runner (RunError.isInstance) and for the offline plan. */
  readonly __pulumiRunError = true;
  readonly isSpecError = true;

  constructor(stackFile: string, problems: readonly SpecProblem[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(`${stackFile}: invalid stack configuration (${count}):\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n")}`);
    this.name = "SpecError";
    this.stackFile = stackFile;
    this.problems = problems;
  }

  static isInstance(error: unknown): error is SpecError {
    return typeof error === "object" && error !== null && (error as { isSpecError?: unknown }).isSpecError === true;
  }
}

export function stackFileFor(stack: string): string {
  return `stacks/Pulumi.${stack}.yaml`;
}

/** `key` followed by a zod issue's path: `odoo-fleet:tenants[1].tier`. */
export function formatPath(key: string, path: readonly PropertyKey[]): string {
  let out = key;
  for (const part of path) out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return out;
}

/** A zod issue in the words of a stack file's author. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  if (input === undefined && (issue.code === "invalid_type" || issue.code === "invalid_value")) return "is required";
  switch (issue.code) {
    case "invalid_type":
      return `must be ${issue.expected === "array" ? "a list" : `a ${issue.expected}`}, got ${JSON.stringify(input)}`;
    case "invalid_value":
      return `${JSON.stringify(input)} is not one of ${issue.values.map(String).join(", ")}`;
    default:
      return issue.message;
  }
}
