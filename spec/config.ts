/** Reading a stack's raw configuration (`key -> string`, as Pulumi hands it over) against key schemas. */
import type { z } from "zod";
import { PROJECT } from "../model/stack";
import { describeIssue, formatPath, type SpecProblem } from "./errors";

/** Keys of other namespaces that stack files may carry and this program ignores. */
const FOREIGN_NAMESPACES = ["aws", "kubernetes", "pulumi"];

/**
 * Pulumi hands every config value over as a string; structured values arrive as JSON text.
 * A value that is not JSON is a plain string (`kind: shared`).
 */
function decodeConfigValue(raw: string): unknown {
  const trimmed = raw.trim();
  if (/^[[{]/.test(trimmed) || /^-?\d+(\.\d+)?$/.test(trimmed) || trimmed === "true" || trimmed === "false") {
    try {
      return JSON.parse(trimmed);
    } catch {
      return raw;
    }
  }
  return raw;
}

type KeySchemas = Readonly<Record<string, z.ZodType>>;

/** Parses every key of `keys` from the config and flags keys it does not know; collects all problems. */
export function parseKeys(config: Readonly<Record<string, string>>, keys: KeySchemas, unknownHint: (key: string) => string): { parsed: Record<string, unknown>; raw: Record<string, unknown>; problems: SpecProblem[] } {
  const problems: SpecProblem[] = [];
  const parsed: Record<string, unknown> = {};
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(config).sort()) {
    const namespace = key.split(":")[0] ?? "";
    if (!(key in keys) && !(namespace !== PROJECT && FOREIGN_NAMESPACES.includes(namespace))) problems.push({ path: key, message: unknownHint(key) });
  }
  for (const [key, schema] of Object.entries(keys)) {
    const value = config[key] === undefined ? undefined : decodeConfigValue(config[key]);
    raw[key] = value;
    const result = schema.safeParse(value, { reportInput: true });
    if (result.success) {
      parsed[key] = result.data;
    } else {
      for (const issue of result.error.issues) {
        if (issue.code === "unrecognized_keys") {
          for (const extra of issue.keys) problems.push({ path: formatPath(key, [...issue.path, extra]), message: "unknown key; check its spelling" });
        } else {
          problems.push({ path: formatPath(key, issue.path), message: describeIssue(issue) });
        }
      }
    }
  }
  return { parsed, raw, problems };
}
