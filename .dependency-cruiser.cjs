/**
 * The layers, and the one direction imports may point (README "Architecture"):
 *
 *   model  <-  tiers  <-  spec  <-  program  ->  components  ->  tiers, model
 *                         policies  ->  tiers, model
 *   plan   ->  program's layers and policies;  inside plan: capture <- analyses <- evaluation <- report <- cli
 *
 * test/, bench/ and scripts/ sit on top and may import any layer. `npm run lint` fails on an import
 * that points back up, on a cycle, and on an import of a file outside the repository's layers.
 */
// Packages (Node's own and npm's) are not ours: every other import of a layer must land in an allowed folder,
// a file at the root (package.json, a stray util.ts) included.
const PACKAGES = ["core", "npm", "npm-dev", "npm-optional", "npm-peer", "npm-bundled", "npm-no-pkg", "npm-unknown"];
const layer = (name, may) => ({
  name: `${name}-imports-only-${may.join("-") || "itself"}`,
  comment: `${name}/ may import ${may.length ? may.join("/, ") + "/ and " : ""}itself only`,
  severity: "error",
  from: { path: `^${name}/` },
  to: { pathNot: `^(${[name, ...may].join("|")})/`, dependencyTypesNot: PACKAGES },
});

module.exports = {
  forbidden: [
    layer("model", []),
    layer("tiers", ["model"]),
    layer("spec", ["tiers", "model"]),
    layer("components", ["tiers", "model"]),
    layer("policies", ["tiers", "model"]),
    layer("program", ["spec", "components", "tiers", "model"]),
    layer("plan", ["program", "spec", "policies", "tiers", "model"]),
    {
      name: "no-unresolvable-imports",
      comment: "an import that resolves to nothing is a file moved without its importers",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, path: "^\\.\\.?/" },
    },
    {
      name: "no-build-output",
      comment: "dist/ is esbuild's output of these very files: import the source",
      severity: "error",
      from: {},
      to: { path: "^dist/" },
    },
    {
      name: "no-cycles",
      comment: "a cycle hides which module is the rule and which the user of it",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "plan-pipeline",
      comment: "each step of the plan reads the steps before it only: capture <- analyses <- evaluation <- report",
      severity: "error",
      from: { path: "^plan/(capture)/" },
      to: { path: "^plan/(analyses|evaluation|report)/" },
    },
    {
      name: "plan-analyses-before-evaluation",
      severity: "error",
      from: { path: "^plan/analyses/" },
      to: { path: "^plan/(evaluation|report)/" },
    },
    {
      name: "plan-evaluation-before-report",
      severity: "error",
      from: { path: "^plan/evaluation/" },
      to: { path: "^plan/report/" },
    },
    {
      name: "nothing-imports-plan-cli",
      severity: "error",
      from: { path: "^plan/(capture|analyses|evaluation|report)/" },
      to: { path: "^plan/cli" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(out|node_modules)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // A worktree may link node_modules from elsewhere: resolve packages where the link sits.
    preserveSymlinks: true,
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"] },
  },
};
