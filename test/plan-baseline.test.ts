/**
 * Every stack plans to the resources recorded in test/fixtures/plan-baseline (scripts/record-plan-baseline.ts):
 * the same URNs and inputs, a renamed or moved resource matched through its aliases as the engine
 * matches it. A refactor passes untouched; a change that means to alter a plan re-records it.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, inject, test } from "vitest";
import type { CapturedResource } from "../model/resource";
import { diffPlans } from "../plan/report/changes";
import { ROOT, stackPlan } from "./plan-cli";

function recorded(stack: string): { recordedAt: string; resources: CapturedResource[] } {
  return JSON.parse(gunzipSync(readFileSync(path.join(ROOT, "test", "fixtures", "plan-baseline", `${stack}.json.gz`))).toString("utf8")) as { recordedAt: string; resources: CapturedResource[] };
}

describe("every stack plans to the recorded resources", () => {
  test.each(inject("stackPlans").stacks)("%s: no resource added, removed, updated or replaced", (stack) => {
    const before = recorded(stack);
    const changes = diffPlans(before, stackPlan(stack).document);
    expect(changes.map((c) => `${c.change} ${c.urn}${c.paths.length ? ` (${c.paths.join(", ")})` : ""}`), `against the plan recorded at ${before.recordedAt}; re-record with npm run record-plan-baseline only for a change meant to alter plans`).toEqual([]);
  });
});
