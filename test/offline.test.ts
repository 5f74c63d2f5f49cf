import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { aliasUrn, engineUrn, inheritedChildAlias, redact } from "../plan/capture/capture";
import { OFFLINE_SECRET, readStackConfig } from "../plan/capture/project";
import { named, startHarness, type Harness } from "./harness";

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness({ stack: "offline" });
});

describe("mocks", () => {
  test("answer the invokes the program makes, with the provider's region", async () => {
    const provider = new aws.Provider("frankfurt", { region: "eu-central-1" });
    const region = await new Promise<string>((resolve) => aws.getRegionOutput({}, { provider }).region.apply(resolve));
    expect(region).toBe("eu-central-1");
    const partition = await aws.getPartition({});
    expect(partition.partition).toBe("aws");
  });

  test("fail loudly on an invoke they do not know", async () => {
    await expect(aws.ec2.getAmi({ owners: ["amazon"], mostRecent: true })).rejects.toThrow(
      "the offline mocks do not know the invoke aws:ec2/getAmi:getAmi; add an answer for it in plan/capture/mocks.ts",
    );
  });
});

describe("capture", () => {
  test("records secrets as [secret], never their value", async () => {
    new aws.secretsmanager.SecretVersion("db-password", { secretId: "some-secret", secretString: pulumi.secret("hunter2-do-not-print") });
    const resources = await harness.settle();
    const version = named(resources, "db-password");
    expect(version.inputs).toEqual({ secretId: "some-secret", secretString: "[secret]" });
    expect(JSON.stringify(resources)).not.toContain("hunter2");
  });

  test("records URNs as the engine forms them (no root stack in the type chain)", async () => {
    const resources = await harness.settle();
    expect(named(resources, "db-password").urn).toBe("urn:pulumi:offline::odoo-fleet::aws:secretsmanager/secretVersion:SecretVersion::db-password");
    expect(engineUrn("s", "p", "urn:pulumi:s::p::a:b:C$d:e:F::x", "g:h:I", "y")).toBe("urn:pulumi:s::p::a:b:C$d:e:F$g:h:I::y");
    expect(engineUrn("s", "p", "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", "g:h:I", "y")).toBe("urn:pulumi:s::p::g:h:I::y");
  });

  test("redact turns Pulumi's wire format into plain JSON", () => {
    const sig = "4dabf18193072939515e22adb298388d";
    expect(
      redact({
        a: { [sig]: "1b47061264138c4ac30d75fd1eb44270", value: "s" },
        b: [{ [sig]: "5cf8f73096256a8f31e491e813e4eb8e", urn: "urn:x", id: "i" }],
        c: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        d: { [sig]: "d0e6a833031e9bbcd3f4e8bde6ca49a4", value: 3, secret: true },
        e: { nested: 1 },
      }),
    ).toEqual({ a: "[secret]", b: ["urn:x"], c: "[unknown]", d: "[secret]", e: { nested: 1 } });
  });
});

describe("stack files", () => {
  test("secure values get an offline placeholder and are marked secret; the ciphertext is dropped", () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "odoo-fleet-secure-")), "Pulumi.s.yaml");
    writeFileSync(file, "config:\n  aws:region: eu-west-1\n  kind: shared\n  odoo-fleet:smtp:\n    user: odoo\n    password:\n      secure: v1:c2VjcmV0Y2lwaGVy\n  odoo-fleet:token:\n    secure: v1:b3RoZXI=\n");
    const stack = readStackConfig(file, "odoo-fleet");
    expect(stack.config).toEqual({
      "aws:region": "eu-west-1",
      "odoo-fleet:kind": "shared",
      "odoo-fleet:smtp": JSON.stringify({ user: "odoo", password: OFFLINE_SECRET }),
      "odoo-fleet:token": OFFLINE_SECRET,
    });
    expect(stack.secretKeys).toEqual(["odoo-fleet:smtp", "odoo-fleet:token"]);
    expect(stack.placeholders).toEqual(["odoo-fleet:smtp", "odoo-fleet:token"]);
    expect(JSON.stringify(stack)).not.toContain("v1:");
  });
});

describe("aliases", () => {
  test.each([
    [{}, "urn:pulumi:s::p::odoo-fleet:data:Postgres$aws:rds/instance:Instance::db"],
    [{ name: "old-db" }, "urn:pulumi:s::p::odoo-fleet:data:Postgres$aws:rds/instance:Instance::old-db"],
    [{ parentUrn: "urn:pulumi:s::p::odoo-fleet:data:PostgresCluster::x" }, "urn:pulumi:s::p::odoo-fleet:data:PostgresCluster$aws:rds/instance:Instance::db"],
    [{ noParent: true }, "urn:pulumi:s::p::aws:rds/instance:Instance::db"],
    [{ stack: "t", project: "q", type: "aws:rds/cluster:Cluster" }, "urn:pulumi:t::q::odoo-fleet:data:Postgres$aws:rds/cluster:Cluster::db"],
  ])("alias %j of a child of a component stands for %s", (alias, urn) => {
    expect(aliasUrn(alias, { stack: "s", project: "p", parent: "urn:pulumi:s::p::odoo-fleet:data:Postgres::x", type: "aws:rds/instance:Instance", name: "db" })).toBe(urn);
  });

  test("a child inherits its parent's old name where its own starts with the parent's new one, as the engine does", () => {
    const child = { stack: "s", project: "p", type: "aws:rds/instance:Instance", name: "new-postgres" };
    const parent = "urn:pulumi:s::p::odoo-fleet:data:PostgresServer::new";
    expect(inheritedChildAlias(child, parent, "urn:pulumi:s::p::odoo-fleet:data:PostgresCluster::old")).toBe("urn:pulumi:s::p::odoo-fleet:data:PostgresCluster$aws:rds/instance:Instance::old-postgres");
    expect(inheritedChildAlias({ ...child, name: "db" }, parent, "urn:pulumi:s::p::odoo-fleet:data:PostgresCluster::old")).toBe("urn:pulumi:s::p::odoo-fleet:data:PostgresCluster$aws:rds/instance:Instance::db");
    // A grandchild inherits from its parent's inherited alias: the whole chain of types is the old one.
    expect(inheritedChildAlias({ ...child, type: "aws:kms/alias:Alias", name: "new-postgres-key" }, "urn:pulumi:s::p::odoo-fleet:data:PostgresServer$odoo-fleet:data:Key::new-postgres", "urn:pulumi:s::p::odoo-fleet:data:PostgresCluster$odoo-fleet:data:Key::old-postgres"))
      .toBe("urn:pulumi:s::p::odoo-fleet:data:PostgresCluster$odoo-fleet:data:Key$aws:kms/alias:Alias::old-postgres-key");
  });

  test("the capture records each resource's aliases as the URNs the engine would match, and none where it has none", async () => {
    class Renamed extends pulumi.ComponentResource {
      constructor(name: string) {
        super("odoo-fleet:test:Renamed", name, {}, { aliases: [{ type: "odoo-fleet:test:Old" }] });
        new aws.s3.Bucket(`${name}-bucket`, {}, { parent: this, aliases: [{ name: `${name}-old-bucket` }] });
        this.registerOutputs({});
      }
    }
    new Renamed("aliased");
    const resources = await harness.settle();
    const component = named(resources, "aliased", "odoo-fleet:test:Renamed");
    const bucket = named(resources, "aliased-bucket", "aws:s3/bucket:Bucket");
    expect(component.aliases).toEqual(["urn:pulumi:offline::odoo-fleet::odoo-fleet:test:Old::aliased"]);
    // The engine also matches a child through its parent's aliases, which the SDK leaves to it: the
    // capture adds them, for the child itself and for each of its own aliases (the provider's type alias
    // to BucketV2 among them).
    expect(bucket.aliases).toEqual([
      "urn:pulumi:offline::odoo-fleet::odoo-fleet:test:Renamed$aws:s3/bucket:Bucket::aliased-old-bucket",
      "urn:pulumi:offline::odoo-fleet::odoo-fleet:test:Renamed$aws:s3/bucketV2:BucketV2::aliased-bucket",
      "urn:pulumi:offline::odoo-fleet::odoo-fleet:test:Old$aws:s3/bucket:Bucket::aliased-bucket",
      "urn:pulumi:offline::odoo-fleet::odoo-fleet:test:Old$aws:s3/bucket:Bucket::aliased-old-bucket",
      "urn:pulumi:offline::odoo-fleet::odoo-fleet:test:Old$aws:s3/bucketV2:BucketV2::aliased-bucket",
    ]);
    expect(resources.filter((r) => r.aliases !== undefined).map((r) => r.name).sort()).toEqual(["aliased", "aliased-bucket"]);
  });
});
