/**
 * `npm run lint` holds the architecture (CI runs it over the repository): here the layer rules of
 * .dependency-cruiser.cjs and the function size limit of eslint.config.mjs meet small trees that
 * break one rule each, through the real tools, so a rule that silently matches nothing fails.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
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
  test("every rule refuses its own bad import, and the same imports pointing down pass", () => {
    const bad = (from: string, to: string, target: string) => ({ [from]: `import { x } from "${to}";\nexport const y = x;\n`, [target]: "export const x = 1;\n" });
    const dir = tree({
      ...bad("model/a.ts", "../spec/a", "spec/a.ts"),
      ...bad("tiers/a.ts", "../plan/t", "plan/t.ts"),
      ...bad("spec/b.ts", "../components/s", "components/s.ts"),
      ...bad("components/a.ts", "../spec/c", "spec/c.ts"),
      ...bad("policies/a.ts", "../components/p", "components/p.ts"),
      ...bad("program/a.ts", "../plan/r", "plan/r.ts"),
      ...bad("plan/u.ts", "../components/u", "components/u.ts"),
      ...bad("components/root.ts", "../util", "util.ts"),
      ...bad("plan/capture/a.ts", "../report/f", "plan/report/f.ts"),
      ...bad("plan/analyses/a.ts", "../evaluation/e", "plan/evaluation/e.ts"),
      ...bad("plan/evaluation/a.ts", "../report/g", "plan/report/g.ts"),
      ...bad("plan/report/a.ts", "../cli", "plan/cli.ts"),
      ...bad("program/built.ts", "../dist/program/index", "dist/program/index.ts"),
      "components/moved.ts": 'import { gone } from "./gone";\nexport const m = gone;\n',
      // a cycle inside one layer
      "plan/analyses/g.ts": 'import { h } from "./h";\nexport const g = () => h;\n',
      "plan/analyses/h.ts": 'import { g } from "./g";\nexport const h = () => g;\n',
      // downwards, and packages: program -> components -> model, spec -> tiers -> model
      "program/ok.ts": 'import { ok } from "../components/ok";\nexport const top = ok;\n',
      "components/ok.ts": 'import { m } from "../model/m";\nimport * as path from "node:path";\nexport const ok = path.join(String(m));\n',
      "spec/ok.ts": 'import { t } from "../tiers/t";\nexport const ok = t;\n',
      "tiers/t.ts": 'import { m } from "../model/m";\nexport const t = m;\n',
      "model/m.ts": "export const m = 1;\n",
    });
    const found = cruise(dir, [...LAYERS, "dist"]).map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
    expect(found).toEqual([
      "components-imports-only-tiers-model: components/a.ts -> spec/c.ts",
      "components-imports-only-tiers-model: components/moved.ts -> ./gone",
      "components-imports-only-tiers-model: components/root.ts -> util.ts",
      "model-imports-only-itself: model/a.ts -> spec/a.ts",
      "no-build-output: program/built.ts -> dist/program/index.ts",
      "no-cycles: plan/analyses/g.ts -> plan/analyses/h.ts",
      "no-unresolvable-imports: components/moved.ts -> ./gone",
      "nothing-imports-plan-cli: plan/report/a.ts -> plan/cli.ts",
      "plan-analyses-before-evaluation: plan/analyses/a.ts -> plan/evaluation/e.ts",
      "plan-evaluation-before-report: plan/evaluation/a.ts -> plan/report/g.ts",
      "plan-imports-only-program-spec-policies-tiers-model: plan/u.ts -> components/u.ts",
      "plan-pipeline: plan/capture/a.ts -> plan/report/f.ts",
      "policies-imports-only-tiers-model: policies/a.ts -> components/p.ts",
      "program-imports-only-spec-components-tiers-model: program/a.ts -> plan/r.ts",
      "program-imports-only-spec-components-tiers-model: program/built.ts -> dist/program/index.ts",
      "spec-imports-only-tiers-model: spec/b.ts -> components/s.ts",
      "tiers-imports-only-model: tiers/a.ts -> plan/t.ts",
    ]);
    // Every rule of the configuration is exercised: a rule added without a case here fails this line.
    const configured = (createRequire(__filename)(path.join(root, ".dependency-cruiser.cjs")) as { forbidden: { name: string }[] }).forbidden.map((r) => r.name).sort();
    expect([...new Set(found.map((f) => f.split(":")[0]!))].sort()).toEqual(configured);
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
