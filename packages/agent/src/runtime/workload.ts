/**
 * Workload from a container's inspect data and the interfaces read in its namespace. Pure, so
 * the rules for state and reason are tested without Docker.
 */
import { serviceName } from './service.js';
import type { Workload, WorkloadInterface } from './types.js';

/** The part of Docker's container inspect answer the agent reads. */
export interface InspectData {
  Id: string;
  Name: string;
  Config: { Image: string; Labels: Record<string, string> | null };
  State: { Running: boolean; Paused: boolean; Pid: number };
  HostConfig: { NetworkMode?: string };
  NetworkSettings: { Networks?: Record<string, unknown> | null };
}

export const REASON_HOST_NETWORK = 'uses the host network namespace';
export const REASON_PAUSED = 'paused';
export const REASON_NO_PID = 'running without a process id';

/** What the runtime needs to know before reading interfaces: is there a namespace to read? */
export function netnsOf(c: InspectData): string {
  if (!c.State.Running || c.State.Pid <= 0 || c.HostConfig.NetworkMode === 'host') return '';
  return `/proc/${c.State.Pid}/ns/net`;
}

/**
 * Networks the container is attached to that give it its own interface: not `host` or `none`,
 * and not `container:<id>` (it shares another container's namespace).
 */
export function expectedInterfaces(c: InspectData): number {
  const mode = c.HostConfig.NetworkMode ?? '';
  if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return 0;
  return Object.keys(c.NetworkSettings.Networks ?? {}).filter((n) => n !== 'none' && n !== 'host').length;
}

/**
 * `interfaces` are those read in the namespace (ignored when there is none); `readError`, when
 * reading them failed for a running container, makes it unmonitored with that reason.
 */
export function toWorkload(c: InspectData, host: string, interfaces: WorkloadInterface[], readError = ''): Workload {
  const name = c.Name.replace(/^\//, '');
  const labels = { ...(c.Config.Labels ?? {}) };
  const base = {
    id: c.Id,
    name,
    image: c.Config.Image,
    labels,
    service: serviceName(labels, c.Config.Image, name),
    host,
  };
  const mode = c.HostConfig.NetworkMode ?? '';
  if (!c.State.Running) return { ...base, pid: 0, netns: '', interfaces: [], state: 'stopped', reason: '' };
  const pid = c.State.Pid;
  if (pid <= 0) return { ...base, pid: 0, netns: '', interfaces: [], state: 'unmonitored', reason: REASON_NO_PID };
  if (mode === 'host') return { ...base, pid, netns: '', interfaces: [], state: 'unmonitored', reason: REASON_HOST_NETWORK };
  const netns = netnsOf(c);
  // Its interfaces belong to the other container, which is monitored on its own.
  if (mode.startsWith('container:')) {
    return { ...base, pid, netns, interfaces: [], state: 'unmonitored', reason: `shares the network namespace of container ${mode.slice(10, 22)}` };
  }
  if (readError) return { ...base, pid, netns, interfaces: [], state: 'unmonitored', reason: `cannot read its interfaces: ${readError}` };
  // A paused container keeps its namespace, but its interfaces are listed so the controller sees them.
  if (c.State.Paused) return { ...base, pid, netns, interfaces, state: 'unmonitored', reason: REASON_PAUSED };
  return { ...base, pid, netns, interfaces, state: 'running', reason: '' };
}
