// What Pod Security "restricted" (Kubernetes 1.25+) and OpenShift's restricted-v2 SCC refuse in
// a pod spec, written from their published rules, so a test can prove a generated pod passes.

const ALLOWED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/** Every rule the pod breaks, in words; empty when it passes both. */
export function podSecurityViolations(pod: any): string[] {
  const problems: string[] = [];
  for (const host of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[host]) problems.push(`${host} is set`);
  for (const volume of pod.volumes ?? []) {
    const type = Object.keys(volume).find((k) => k !== 'name');
    if (!type || !ALLOWED_VOLUME_TYPES.includes(type)) problems.push(`volume ${volume.name} is of type ${type}`);
  }
  const podContext = pod.securityContext ?? {};
  if (podContext.runAsUser !== undefined) problems.push('the pod fixes runAsUser (restricted-v2 assigns the UID)');
  if (podContext.sysctls?.length) problems.push('the pod sets sysctls');
  for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    const sc = c.securityContext ?? {};
    const where = `container ${c.name}`;
    if (sc.privileged) problems.push(`${where} is privileged`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${where} does not set allowPrivilegeEscalation: false`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${where} does not drop ALL capabilities`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') problems.push(`${where} adds ${cap}`);
    if ((sc.runAsNonRoot ?? podContext.runAsNonRoot) !== true) problems.push(`${where} may run as root (runAsNonRoot)`);
    if (sc.runAsUser !== undefined) problems.push(`${where} fixes runAsUser`);
    const seccomp = sc.seccompProfile?.type ?? podContext.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${where} has no RuntimeDefault seccomp profile`);
    for (const port of c.ports ?? []) if (port.hostPort) problems.push(`${where} uses hostPort ${port.hostPort}`);
  }
  return problems;
}
