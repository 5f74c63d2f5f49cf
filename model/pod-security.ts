/**
 * The Kubernetes Pod Security Standards "restricted" profile, as a check over a pod spec. Pure: the
 * tests, policies and analyses share it.
 */

type Obj = Record<string, unknown>;
const ALLOWED_VOLUMES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

/** Every way `pod` breaks the restricted profile, as readable messages (empty: it complies). */
export function restrictedViolations(pod: Obj): string[] {
  const problems: string[] = [];
  const podContext = (pod.securityContext ?? {}) as Obj;
  for (const flag of ["hostNetwork", "hostPID", "hostIPC"]) if (pod[flag] === true) problems.push(`${flag} is not allowed`);
  for (const volume of (pod.volumes ?? []) as Obj[]) {
    const kind = Object.keys(volume).find((k) => k !== "name");
    if (!kind || !ALLOWED_VOLUMES.includes(kind)) problems.push(`volume ${String(volume.name)} of type ${kind} is not allowed`);
  }
  const podSeccomp = (podContext.seccompProfile as Obj | undefined)?.type;
  const containers = [...((pod.initContainers ?? []) as Obj[]), ...((pod.containers ?? []) as Obj[])];
  for (const container of containers) {
    const name = String(container.name);
    const context = (container.securityContext ?? {}) as Obj;
    if (context.privileged === true) problems.push(`container ${name} is privileged`);
    if (context.allowPrivilegeEscalation !== false) problems.push(`container ${name} must set allowPrivilegeEscalation: false`);
    if (context.runAsNonRoot !== true && podContext.runAsNonRoot !== true) problems.push(`container ${name} must run as non-root`);
    if (context.runAsUser === 0 || (context.runAsUser === undefined && podContext.runAsUser === 0)) problems.push(`container ${name} runs as user 0`);
    const seccomp = (context.seccompProfile as Obj | undefined)?.type ?? podSeccomp;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") problems.push(`container ${name} needs seccompProfile RuntimeDefault or Localhost`);
    const capabilities = (context.capabilities ?? {}) as { drop?: string[]; add?: string[] };
    if (!(capabilities.drop ?? []).includes("ALL")) problems.push(`container ${name} must drop ALL capabilities`);
    for (const added of capabilities.add ?? []) if (added !== "NET_BIND_SERVICE") problems.push(`container ${name} adds capability ${added}`);
    for (const port of (container.ports ?? []) as Obj[]) if (port.hostPort !== undefined && port.hostPort !== 0) problems.push(`container ${name} uses hostPort ${String(port.hostPort)}`);
  }
  return problems;
}
