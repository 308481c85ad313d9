/**
 * The service a workload belongs to, the unit the controller groups workloads by (svc.<name>).
 * An explicit `mseg.service` label wins; else a compose project and service (the same across
 * scaled replicas); else the image's name, so replicas of one image from `docker run` share it.
 */

export const SERVICE_LABEL = 'mseg.service';
const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';

/**
 * Image reference → name without registry, tag or digest: `registry.local:5000/team/api:1.2@sha256:…`
 * → `team/api`; Docker Hub's implicit `library/` is dropped (`docker.io/library/nginx` → `nginx`).
 * An image given only by id (`sha256:…`) has no name: returns ''.
 */
export function imageName(image: string): string {
  let ref = image.trim();
  if (/^(sha256:)?[0-9a-f]{64}$/.test(ref)) return '';
  const at = ref.indexOf('@');
  if (at >= 0) ref = ref.slice(0, at);
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) ref = ref.slice(0, colon);
  const parts = ref.split('/');
  // Docker's rule: the first part names a registry if it has a dot or a port, or is localhost.
  if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === 'localhost')) parts.shift();
  if (parts.length > 1 && parts[0] === 'library') parts.shift();
  return parts.join('/');
}

/** Service name of a container; `containerName` is the last resort for an image given by id. */
export function serviceName(labels: Record<string, string>, image: string, containerName: string): string {
  const explicit = labels[SERVICE_LABEL]?.trim();
  if (explicit) return explicit;
  const project = labels[COMPOSE_PROJECT]?.trim();
  const service = labels[COMPOSE_SERVICE]?.trim();
  if (project && service) return `${project}.${service}`;
  return imageName(image) || containerName;
}
