import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { tenantAccessPoint } from "../components/data/filestore";
import { POSTGRES_PORT } from "../components/data/postgres";
import { tenantPosixId } from "../model/naming";
import { OdooTenant } from "../components/tenant";
import { PROVISIONER_SERVICE_ACCOUNT } from "../components/tenant/platform";
import { SYSTEM_NAMESPACE } from "../model/kubernetes";
import type { ReviewSpec } from "../spec/index";
import { platformTags, tenantTags } from "../model/tags";

/** The host outputs a review stack reads (program/platform.ts exports them). */
export const HOST_OUTPUTS = ["kubeconfig", "vpcCidr", "dataCidrs", "tenantNodeSelector", "systemNodeSelector", "postgresAddress", "postgresMasterSecretArn", "filestoreId"] as const;

/**
 * A review (pull-request) environment: its tenants, deployed onto the cluster and data stores of a host
 * stack (normally shared-dev). It creates only what is its own: the tenants' Kubernetes objects, their
 * EFS access points and their databases; destroying it leaves the host as it was.
 */
export async function buildReviewStack(spec: ReviewSpec) {
  const tags = platformTags({ ...spec, kind: "shared" });
  const host = new pulumi.StackReference("host", { name: spec.host.stack });
  const output = <T>(key: (typeof HOST_OUTPUTS)[number]) => host.requireOutput(key) as pulumi.Output<T>;
  // Values that shape manifests are read as plain values (known at preview: they come from the host's state).
  const plain = async <T>(key: (typeof HOST_OUTPUTS)[number]): Promise<T> => {
    const details = await host.getOutputDetails(key);
    const value = details.value ?? details.secretValue;
    if (value === undefined) throw new Error(`host stack ${spec.host.stack} has no output ${key}; deploy it with a current odoo-fleet first`);
    return value as T;
  };
  const [vpcCidr, dataCidrs, tenantNodeSelector, systemNodeSelector] = await Promise.all([
    plain<string>("vpcCidr"),
    plain<string[]>("dataCidrs"),
    plain<Record<string, string>>("tenantNodeSelector"),
    plain<Record<string, string>>("systemNodeSelector"),
  ]);

  const primary = new aws.Provider("primary", { region: spec.region as aws.Region, defaultTags: { tags } });
  const cluster = new k8s.Provider("host-cluster", { kubeconfig: output<string>("kubeconfig"), enableServerSideApply: true });

  for (const tenant of spec.tenants) {
    const posixId = tenantPosixId(tenant.name);
    const accessPoint = new aws.efs.AccessPoint(`${tenant.name}-filestore`, {
      fileSystemId: output<string>("filestoreId"),
      ...tenantAccessPoint(posixId, `/review/${spec.stack}/${tenant.name}`),
      tags: { ...tenantTags(tags, tenant), Name: `${spec.stack}-${tenant.name}` },
    }, { provider: primary });

    new OdooTenant(tenant.name, {
      tenant,
      environment: spec.environment,
      scheduling: { nodeSelector: tenantNodeSelector, tolerations: [] },
      vpcCidr,
      dataCidrs,
      database: { host: output<string>("postgresAddress"), port: POSTGRES_PORT },
      filestore: { fileSystemId: output<string>("filestoreId"), accessPointId: accessPoint.id, posixId },
      provisioner: {
        nodeSelector: systemNodeSelector,
        namespace: SYSTEM_NAMESPACE,
        serviceAccount: PROVISIONER_SERVICE_ACCOUNT,
        scriptsConfigMap: "tenant-scripts",
        image: spec.platformImages.tools,
        masterSecretArn: output<string>("postgresMasterSecretArn"),
        region: spec.region,
      },
      tags,
    }, { providers: { aws: primary, kubernetes: cluster } });
  }

  return {
    host: spec.host.stack,
    tenants: spec.tenants.map((t) => ({ name: t.name, tier: t.tier, domains: t.domains })),
  };
}
