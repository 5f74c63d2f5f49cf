/**
 * `npm run lint` holds the architecture (CI runs it over the repository): here the layer rules of
 * .dependency-cruiser.cjs and the function size limit of eslint.config.mjs meet small trees that
 * break one rule each, through the real tools, so a rule that silently matches nothing fails.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ESLint } from "eslint";
import { afterAll, describe, expect, test } from "vitest";

const root = path.resolve(__dirname, "..");
const LAYERS = ["model", "tiers", "spec", "program", "components", "policies", "plan"];
const depcruiseBin = path.join(root, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs");

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** Runs dependency-cruiser with the repository's own rules over `dirs` of `cwd`. */
function cruise(cwd: string, dirs: readonly string[]): Violation[] {
  const result = spawnSync(process.execPath, [depcruiseBin, "--config", path.join(root, ".dependency-cruiser.cjs"), "--output-type", "json", ...dirs], { cwd, encoding: "utf8" });
  if (!result.stdout) throw new Error(`dependency-cruiser produced no report: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A throwaway tree of `files` (path -> source) with a tsconfig like the repository's. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-lint-"));
  scratch.push(dir);
  writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "node16", moduleResolution: "node16", strict: true } }));
  for (const [file, source] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), source);
  }
  return dir;
}

describe("import direction (dependency-cruiser)", () => {
  test("each back-pointing import and each cycle is refused, and the same imports pointing down pass", () => {
    const dir = tree({
      // a component importing the program
      "components/a.ts": 'import { b } from "../program/b";\nexport const a = b;\n',
      "program/b.ts": "export const b = 1;\n",
      // a policy importing a component
      "policies/a.ts": 'import { c } from "../components/c";\nexport const a = c;\n',
      "components/c.ts": "export const c = 1;\n",
      // the model importing the spec
      "model/a.ts": 'import { d } from "../spec/d";\nexport const a = d;\n',
      "spec/d.ts": "export const d = 1;\n",
      // the tiers importing the plan, for a type only
      "tiers/a.ts": 'import type { E } from "../plan/e";\nexport type A = E;\n',
      "plan/e.ts": "export type E = number;\n",
      // the plan's capture reading its report
      "plan/capture/a.ts": 'import { f } from "../report/f";\nexport const a = f;\n',
      "plan/report/f.ts": "export const f = 1;\n",
      // a cycle inside one layer
      "plan/analyses/g.ts": 'import { h } from "./h";\nexport const g = () => h;\n',
      "plan/analyses/h.ts": 'import { g } from "./g";\nexport const h = () => g;\n',
      // downwards: program -> components -> model, spec -> tiers -> model
      "program/ok.ts": 'import { ok } from "../components/ok";\nexport const top = ok;\n',
      "components/ok.ts": 'import { m } from "../model/m";\nexport const ok = m;\n',
      "spec/ok.ts": 'import { t } from "../tiers/t";\nexport const ok = t;\n',
      "tiers/t.ts": 'import { m } from "../model/m";\nexport const t = m;\n',
      "model/m.ts": "export const m = 1;\n",
    });
    expect(cruise(dir, LAYERS).map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort()).toEqual([
      "components-imports-only-tiers-model: components/a.ts -> program/b.ts",
      "model-imports-only-itself: model/a.ts -> spec/d.ts",
      "no-cycles: plan/analyses/g.ts -> plan/analyses/h.ts",
      "plan-pipeline: plan/capture/a.ts -> plan/report/f.ts",
      "policies-imports-only-tiers-model: policies/a.ts -> components/c.ts",
      "tiers-imports-only-model: tiers/a.ts -> plan/e.ts",
    ]);
  });
});

describe("function size (eslint)", () => {
  const eslint = () => new ESLint({ cwd: root, overrideConfigFile: path.join(root, "eslint.config.mjs") });
  const functionOf = (lines: number) => `export function f(): number {\n${Array.from({ length: lines - 3 }, (_, i) => `  const v${i} = ${i};`).join("\n")}\n  return 0;\n}\n`;
  const sizeErrors = async (file: string, lines: number) =>
    (await eslint().lintText(functionOf(lines), { filePath: path.join(root, file) }))[0]!.messages.filter((m) => m.ruleId === "max-lines-per-function").map((m) => m.message);

  test.each(["components/probe.ts", "program/probe.ts", "spec/probe.ts", "tiers/probe.ts", "model/probe.ts"])("a 121-line function in %s is refused, a 120-line one passes", async (file) => {
    expect(await sizeErrors(file, 121)).toEqual(["Function 'f' has too many lines (121). Maximum allowed is 120."]);
    expect(await sizeErrors(file, 120)).toEqual([]);
  });
});
