/** Desired taps from the workload table: one per container interface, named per names.ts. */
import { exName, inName } from './names.js';
import type { PlumbingWorkload, TapSpec } from './types.js';

export function desiredTaps(workloads: readonly PlumbingWorkload[]): TapSpec[] {
  const out: TapSpec[] = [];
  for (const w of workloads) {
    for (const i of w.interfaces) {
      // The container's loopback never carries traffic between workloads.
      if (i.name === 'lo') continue;
      out.push({
        workloadId: w.id,
        netns: w.netns,
        ifName: i.name,
        ifIndex: i.ifindex,
        exName: exName(i.name),
        inName: inName(w.id, i.ifindex),
        mac: i.mac.toLowerCase(),
        ips: [...i.ips].sort(),
      });
    }
  }
  return out;
}

export function tapKey(t: TapSpec): string {
  return t.inName;
}

export function sameTap(a: TapSpec, b: TapSpec): boolean {
  return (
    a.workloadId === b.workloadId &&
    a.netns === b.netns &&
    a.ifName === b.ifName &&
    a.ifIndex === b.ifIndex &&
    a.exName === b.exName &&
    a.inName === b.inName &&
    a.mac === b.mac &&
    a.ips.join(',') === b.ips.join(',')
  );
}
