import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import type { CapturedResource } from "../model/resource";
import { changeSummary, diffPlans, replacementPaths } from "../plan/report/changes";
import { markdownReport } from "../plan/report/markdown";
import { ROOT, runPlanCli, stackPlan } from "./plan-cli";

const resource = (urn: string, type: string, inputs: Record<string, unknown>, protect = false): CapturedResource => ({
  urn, type, name: urn.split("::").pop()!, custom: true, parent: null, provider: null, protect, retainOnDelete: false, dependsOn: [], ignoreChanges: [], inputs,
});

/**
 * One CLI run for the two checks through the CLI below (a plan is a process of its own): shared-prod
 * with tailspin grown from 8 to 20 users, `--against` the stack's own plan with Object Lock turned off
 * on its backup bucket (so the new plan turns it on), and `--report`.
 */
let against: { bucket: CapturedResource; result: ReturnType<typeof runPlanCli>; markdown: string } | undefined;
function againstPrevious() {
  if (against) return against;
  const dir = mkdtempSync(path.join(tmpdir(), "odoo-fleet-report-"));
  const previous = stackPlan("shared-prod").document;
  const bucket = previous.resources.find((r) => r.type === "aws:s3/bucket:Bucket" && r.inputs.objectLockEnabled === true)!;
  bucket.inputs.objectLockEnabled = false;
  writeFileSync(path.join(dir, "previous.json"), JSON.stringify(previous));
  const grown = readFileSync(path.join(ROOT, "stacks", "Pulumi.shared-prod.yaml"), "utf8").replace("expectedUsers: 8\n", "expectedUsers: 20\n");
  const file = path.join(dir, "Pulumi.shared-prod.yaml");
  writeFileSync(file, grown);
  const report = path.join(dir, "report.md");
  const result = runPlanCli(["--stack-file", file, "--against", path.join(dir, "previous.json"), "--report", report]);
  against = { bucket, result, markdown: readFileSync(report, "utf8") };
  return against;
}

describe("diffPlans", () => {
  test("added, updated (with the input paths) and removed resources; stateful ones marked", () => {
    const before = [resource("u::a", "aws:s3/bucket:Bucket", { tags: { owner: "x" } }, true), resource("u::b", "aws:ec2/vpc:Vpc", { cidrBlock: "10.0.0.0/16" }), resource("u::gone", "aws:rds/instance:Instance", {})];
    const after = [resource("u::a", "aws:s3/bucket:Bucket", { tags: { owner: "y" } }, false), resource("u::b", "aws:ec2/vpc:Vpc", { cidrBlock: "10.0.0.0/16" }), resource("u::new", "aws:ec2/subnet:Subnet", { list: [1] })];
    expect(diffPlans({ resources: before }, { resources: after })).toEqual([
      { urn: "u::a", type: "aws:s3/bucket:Bucket", change: "update", paths: ["tags.owner", "(protect)"], stateful: true },
      { urn: "u::new", type: "aws:ec2/subnet:Subnet", change: "add", paths: [], stateful: false },
      { urn: "u::gone", type: "aws:rds/instance:Instance", change: "remove", paths: [], stateful: true },
    ]);
  });
});

describe("diffPlans matches a renamed or moved resource through its aliases, as the engine does", () => {
  const alias = (r: ReturnType<typeof resource>, aliases: string[]) => ({ ...r, aliases });
  const before = [resource("u::Old$aws:rds/instance:Instance::db", "aws:rds/instance:Instance", { kmsKeyId: "k1" }, true), resource("u::Old$aws:ec2/subnet:Subnet::s", "aws:ec2/subnet:Subnet", { vpc: "u::Old$aws:rds/instance:Instance::db" })];

  test("a rename with an alias of its old URN changes nothing, references to it included", () => {
    const after = [
      alias(resource("u::New$aws:rds/instance:Instance::db", "aws:rds/instance:Instance", { kmsKeyId: "k1" }, true), ["u::Old$aws:rds/instance:Instance::db"]),
      alias(resource("u::New$aws:ec2/subnet:Subnet::s", "aws:ec2/subnet:Subnet", { vpc: "u::New$aws:rds/instance:Instance::db" }), ["u::Old$aws:ec2/subnet:Subnet::s"]),
    ];
    expect(diffPlans({ resources: before }, { resources: after })).toEqual([]);
  });

  test("without the alias the same rename replaces the database: a removal and an addition", () => {
    const after = [resource("u::New$aws:rds/instance:Instance::db", "aws:rds/instance:Instance", { kmsKeyId: "k1" }, true), before[1]!];
    expect(diffPlans({ resources: before }, { resources: after }).map((c) => [c.change, c.urn, c.stateful])).toEqual([
      ["add", "u::New$aws:rds/instance:Instance::db", true],
      ["remove", "u::Old$aws:rds/instance:Instance::db", true],
    ]);
  });

  test("a moved resource whose inputs changed is an update under its new URN; an alias still in use matches nothing", () => {
    const after = [
      alias(resource("u::New$aws:rds/instance:Instance::db", "aws:rds/instance:Instance", { kmsKeyId: "k2" }, true), ["u::Old$aws:rds/instance:Instance::db"]),
      alias(resource("u::Other$aws:ec2/subnet:Subnet::s", "aws:ec2/subnet:Subnet", { vpc: "u::New$aws:rds/instance:Instance::db" }), ["u::Old$aws:ec2/subnet:Subnet::s"]),
      resource("u::Old$aws:ec2/subnet:Subnet::s", "aws:ec2/subnet:Subnet", { vpc: "u::New$aws:rds/instance:Instance::db" }),
    ];
    expect(diffPlans({ resources: before }, { resources: after }).map((c) => [c.change, c.urn, c.paths])).toEqual([
      ["replace", "u::New$aws:rds/instance:Instance::db", ["kmsKeyId"]],
      ["add", "u::Other$aws:ec2/subnet:Subnet::s", []],
    ]);
  });
});

describe("replacements of stateful resources", () => {
  test.each([
    ["aws:rds/instance:Instance", ["instanceClass", "tags.owner"], []],
    ["aws:rds/instance:Instance", ["kmsKeyId", "allocatedStorage"], ["kmsKeyId"]],
    ["aws:rds/instance:Instance", ["identifier"], ["identifier"]],
    ["aws:s3/bucket:Bucket", ["objectLockEnabled"], ["objectLockEnabled"]],
    ["aws:s3/bucket:Bucket", ["bucketName"], []],
    ["aws:efs/fileSystem:FileSystem", ["encrypted", "throughputMode"], ["encrypted"]],
    ["aws:elasticache/replicationGroup:ReplicationGroup", ["numCacheClusters", "atRestEncryptionEnabled"], ["atRestEncryptionEnabled"]],
    ["kubernetes:core/v1:PersistentVolume", ["spec.csi.volumeHandle", "spec.capacity.storage"], ["spec.csi.volumeHandle"]],
    ["aws:ec2/vpc:Vpc", ["cidrBlock"], []],
  ])("%s changing %j is forced by %j", (type, paths, forcing) => {
    expect(replacementPaths(type, paths)).toEqual(forcing);
  });

  test("an update of a force-new input is a replacement, flagged as a data-loss risk", () => {
    const before = [resource("u::db", "aws:rds/instance:Instance", { kmsKeyId: "k1", instanceClass: "db.m7g.large" }), resource("u::vpc", "aws:ec2/vpc:Vpc", { tags: { a: "1" } })];
    const after = [resource("u::db", "aws:rds/instance:Instance", { kmsKeyId: "k2", instanceClass: "db.m7g.xlarge" }), resource("u::vpc", "aws:ec2/vpc:Vpc", { tags: { a: "2" } })];
    const changes = diffPlans({ resources: before }, { resources: after });
    expect(changes).toEqual([
      { urn: "u::db", type: "aws:rds/instance:Instance", change: "replace", paths: ["instanceClass", "kmsKeyId"], stateful: true, replaceBecause: ["kmsKeyId"] },
      { urn: "u::vpc", type: "aws:ec2/vpc:Vpc", change: "update", paths: ["tags.a"], stateful: false },
    ]);
    expect(changeSummary(changes)).toBe(
      "changes against the previous plan: 0 to add, 1 to update, 1 to replace, 0 to remove\n  !! DATA LOSS RISK: replaces aws:rds/instance:Instance (forced by kmsKeyId): u::db",
    );
  });

  test("through the CLI: turning Object Lock on for an existing backup bucket replaces it, loudly", () => {
    const { bucket, result, markdown } = againstPrevious();
    expect(result.status, result.stderr).toBe(0);
    expect(result.document.changes!.filter((c) => c.change !== "update")).toEqual([{ urn: bucket.urn, type: "aws:s3/bucket:Bucket", change: "replace", paths: ["objectLockEnabled"], stateful: true, replaceBecause: ["objectLockEnabled"] }]);
    expect(result.stdout).toContain(`changes against the previous plan: 0 to add, 5 to update, 1 to replace, 0 to remove\n  !! DATA LOSS RISK: replaces aws:s3/bucket:Bucket (forced by objectLockEnabled): ${bucket.urn}\n`);
    expect(markdown).toContain("> [!CAUTION]\n> **1 stateful resource is replaced or removed: the data in it is lost unless restored.**\n");
    expect(markdown).toContain(`> - replace \`${bucket.urn.split("::").slice(2).join("::")}\` (forced by \`objectLockEnabled\`)`);
  });
});

describe("plan --against and --report", () => {
  test("a grown tenant shows as updates of its own objects only: max_connections and its alarm stay as they are, in Markdown too", () => {
    const { result, markdown } = againstPrevious();
    expect(result.status, result.stderr).toBe(0);
    const changes = result.document.changes!.filter((c) => c.change === "update");
    // Registration order interleaves components: compare as sets.
    expect(changes.map((c) => [c.change, c.urn.split("::").pop()]).sort()).toEqual([
      ["update", "tailspin-configmap-odoo-conf"],
      ["update", "tailspin-deployment-odoo-web"],
      ["update", "tailspin-limitrange-limits"],
      ["update", "tailspin-provision-db"],
      ["update", "tailspin-resourcequota-quota"],
    ]);
    expect(markdown).toContain("## odoo-fleet plan: `shared-prod` (no mandatory violation)");
    expect(markdown).toContain("### Changes against the previous plan: 0 to add, 5 to update, 1 to replace, 0 to remove");
    expect(markdown).toContain("| update | `odoo-fleet:tenants:OdooTenant$kubernetes:apps/v1:Deployment::tailspin-deployment-odoo-web` |");
    expect(markdown).toContain("### Policy violations: none");
    expect(markdown).toContain("| northwind | business | RPO | region-lost | 15 min | 1 h | ok |");
  });

  test("the report of an invalid stack lists its problems", () => {
    const md = markdownReport(
      { project: "odoo-fleet", stack: "x", stackFile: "stacks/Pulumi.x.yaml", resources: [], violations: [], summary: { resourceCount: 0, byType: {} }, errors: [{ path: "odoo-fleet:zones", message: "is required" }], offlinePlaceholders: [] },
      [],
    );
    expect(md).toBe("## odoo-fleet plan: `x` (invalid configuration)\n\n`stacks/Pulumi.x.yaml` is invalid:\n\n- `odoo-fleet:zones`: is required\n\n");
  });
});
