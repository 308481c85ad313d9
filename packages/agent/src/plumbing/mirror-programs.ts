/**
 * The mirror program of one tap (@mseg/dp's bypass/program.ts): built for its nv-ex (where copies
 * go), its DP port (nv-in's ifindex, the bypass key's first field) and the bypass map. A filter
 * running it carries a name that says all of that, so a dump tells whether a filter runs the
 * program the tap needs now: another version, map or ifindex is replaced.
 */
import { mirrorProgram, PROG_TYPE_SCHED_CLS, PROGRAM_LICENSE, PROGRAM_NAME, PROGRAM_VERSION } from '@mseg/dp';
import type { Bpf } from './bpf.js';
import type { BypassMap } from './bypass-map.js';

export interface MirrorProgram {
  /** Descriptor of the loaded program in this process: the filter add takes it, then it is closed. */
  fd: number;
  /** TCA_BPF_NAME of the filters running it. */
  name: string;
}

export interface MirrorPrograms {
  /** The name a filter running the tap's program has. */
  name(exIndex: number, port: number): string;
  load(exIndex: number, port: number): MirrorProgram;
  close(fd: number): void;
}

export class BpfMirrorPrograms implements MirrorPrograms {
  constructor(
    private readonly bpf: Bpf,
    /** The bypass map open now (the base's); null before the base made it. */
    private readonly map: () => BypassMap | null,
  ) {}

  name(exIndex: number, port: number): string {
    return `${PROGRAM_NAME} v${PROGRAM_VERSION} map ${this.open().id} to ${exIndex} port ${port}`;
  }

  load(exIndex: number, port: number): MirrorProgram {
    const map = this.open();
    const fd = this.bpf.progLoad(PROG_TYPE_SCHED_CLS, mirrorProgram({ mapFd: map.fd, mirrorTo: exIndex, port }), PROGRAM_LICENSE, PROGRAM_NAME);
    return { fd, name: this.name(exIndex, port) };
  }

  close(fd: number): void {
    this.bpf.close(fd);
  }

  private open(): BypassMap {
    const map = this.map();
    if (!map) throw new Error('the bypass map is not open: the capture namespace is not done');
    return map;
  }
}
