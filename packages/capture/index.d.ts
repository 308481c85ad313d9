/**
 * Live capture from one AF_PACKET socket with a TPACKET_V3 mmap ring (Linux). Frames reach JS one
 * kernel block at a time, without copying: `next()` lends a block as an ArrayBuffer over the ring
 * and `release()` gives it back to the kernel.
 *
 * Validity rule: a batch's `buffer` (and every view made from it) is valid only until `release()` or
 * `close()`; both detach it, so later reads see a zero-length buffer. Copy what must outlive the batch.
 */

export interface CaptureOptions {
  /** Network namespace name under /run/netns (`ip netns add NAME`); default: the caller's namespace. */
  netns?: string;
  /** Capture only this interface (index in that namespace); default 0 = every interface. */
  ifindex?: number;
  /** Bytes kept per frame, 64..262144; default 4096. `wireLen` still reports the full length. */
  snapLen?: number;
  /** Ring block size in bytes, a power of two from 4096; default 1 MiB. */
  blockSize?: number;
  /** Ring blocks, 2..65536; default 64. */
  blockCount?: number;
  /** A partly filled block is handed to user space after this many ms; 1..60000, default 10. */
  blockTimeoutMs?: number;
}

export interface Batch {
  /** The retired ring block. Frame bytes are at `index` offsets into it. Valid until release(). */
  readonly buffer: ArrayBuffer;
  /**
   * FRAME_WORDS words per frame for `count` frames, read with the FRAME_* positions. The same array
   * is refilled by every next(); entries past `count * FRAME_WORDS` are stale.
   */
  readonly index: Uint32Array;
  /** Frames in this batch, at least 1. */
  readonly count: number;
}

export interface CaptureStats {
  /** Frames the socket saw, dropped ones included (kernel tp_packets). Cumulative since open. */
  packets: number;
  /** Frames lost because no ring block was free (kernel tp_drops). */
  drops: number;
  /** Times the kernel found the ring full and froze the queue (tp_freeze_q_cnt). */
  freezeQueueCount: number;
}

export declare class Capture {
  /**
   * Opens the socket (inside `netns` if given), maps the ring and starts capturing. Needs
   * CAP_NET_RAW, and CAP_SYS_ADMIN to enter a namespace. Throws an Error whose `code` is the errno
   * name (e.g. 'EPERM', 'ENOENT') with `errno` (negative), `syscall` and `path` where relevant;
   * bad options throw RangeError/TypeError with code 'ERR_OUT_OF_RANGE'/'ERR_INVALID_ARG_TYPE'.
   */
  constructor(options?: CaptureOptions);
  /**
   * The next retired block, or null if none arrives within `timeoutMs` (default 0: do not wait; a
   * signal also ends the wait early). Waiting blocks the calling thread: on the main thread use
   * `watch()` and `next()` with no timeout. Throws 'MSEG_ERR_CAPTURE_BUSY' while a batch is lent
   * and 'MSEG_ERR_CAPTURE_CLOSED' after close().
   */
  next(timeoutMs?: number): Batch | null;
  /** Returns the lent block to the kernel and detaches its buffer. No-op when nothing is lent. */
  release(): void;
  /** Cumulative kernel counters; after close() the final values. */
  stats(): CaptureStats;
  /**
   * Calls `onReadable` from the event loop whenever a block is ready (level-triggered: drain with
   * next()/release() until null, or it fires again). Replaces an earlier callback. While watching,
   * the capture keeps the event loop alive.
   */
  watch(onReadable: (error?: Error) => void): void;
  /** Stops watch() callbacks. */
  unwatch(): void;
  /** Stops capturing, detaches the lent block and closes the socket. Idempotent. */
  close(): void;
  readonly closed: boolean;
}

/** Words per frame in Batch.index. */
export declare const FRAME_WORDS: 8;
/** Byte offset of the frame's link-layer header in Batch.buffer. */
export declare const FRAME_OFFSET: 0;
/** Captured bytes (at most snapLen). */
export declare const FRAME_CAPLEN: 1;
/** Original frame length as the kernel saw it (may be a 64 KiB GSO frame). */
export declare const FRAME_WIRELEN: 2;
/** Interface index the frame was seen on. */
export declare const FRAME_IFINDEX: 3;
/** Timestamp seconds (Unix time). */
export declare const FRAME_SEC: 4;
/** Timestamp nanoseconds. */
export declare const FRAME_NSEC: 5;
/**
 * VLAN tag the kernel removed from the frame bytes: `tci | tpid << 16`, or 0 when untagged
 * (tpid is never 0 for a tagged frame, so tci 0 priority tags are distinguishable).
 */
export declare const FRAME_VLAN: 6;
/** Packet type: 0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing (linux/if_packet.h). */
export declare const FRAME_PKTTYPE: 7;

/**
 * Sends `request` (one or more netlink messages, each asking for an ack or a dump) on a fresh
 * netlink socket of `protocol` (0 NETLINK_ROUTE, 12 NETLINK_NETFILTER) opened inside the network
 * namespace at `netns` (/proc/PID/ns/net, /run/netns/NAME; '' for the caller's own), and resolves
 * with every reply datagram concatenated once `messages` replies have ended (NLMSG_ERROR/NLMSG_DONE).
 * Kernel refusals are in the reply (NLMSG_ERROR with a negative errno) for the caller to parse; the
 * promise rejects only when the exchange itself fails (no such namespace: code 'ENOENT'; no reply
 * within 10 s: 'ETIMEDOUT'), with an Error like Capture's. Needs CAP_SYS_ADMIN to enter a namespace.
 */
export declare function netlinkRequest(netns: string, protocol: number, request: Uint8Array, messages: number): Promise<Buffer>;

/**
 * bpf(2), synchronously: the calls the session bypass needs (dp's bypass/, the agent's mirror).
 * Failures throw an Error like Capture's (`code` the errno name, `syscall` e.g. 'bpf(BPF_MAP_CREATE)');
 * a refused program's message ends with the verifier's last lines.
 */
export declare function bpfMapCreate(type: number, keySize: number, valueSize: number, maxEntries: number, name: string): number;
/** Opens a pinned map or program (a path on a bpf filesystem); returns a new descriptor. */
export declare function bpfObjGet(path: string): number;
/** Pins the map or program at `path` on a bpf filesystem, so it outlives this process. */
export declare function bpfObjPin(fd: number, path: string): void;
export interface BpfMapInfo {
  id: number;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  name: string;
}
export declare function bpfMapInfo(fd: number): BpfMapInfo;
/** Loads a program of `type` (BPF_PROG_TYPE_*) from raw 8-byte instructions; returns its descriptor. */
export declare function bpfProgLoad(type: number, insns: Uint8Array, license: string, name: string): number;
/** Runs a loaded program once over `packet` (an Ethernet frame for tc programs); returns its return value. */
export declare function bpfProgTestRun(fd: number, packet: Uint8Array): number;
/**
 * Looks up each of the keys (`keySize` bytes apiece) and writes its value (`valueSize` bytes) at
 * the same position in `values`; a missing key's value is zeros. Returns how many were found.
 */
export declare function bpfMapLookup(fd: number, keys: Uint8Array, keySize: number, values: Uint8Array, valueSize: number): number;
/**
 * Writes each key's value (BPF_ANY 0, BPF_NOEXIST 1, BPF_EXIST 2 as `flags`). Returns how many
 * were written: a full map stops the batch there rather than throwing.
 */
export declare function bpfMapUpdate(fd: number, keys: Uint8Array, keySize: number, values: Uint8Array, valueSize: number, flags: number): number;
/** Deletes each key; returns how many existed. */
export declare function bpfMapDelete(fd: number, keys: Uint8Array, keySize: number): number;
/** Deletes every key of a hash map; returns how many there were. */
export declare function bpfMapClear(fd: number, keySize: number): number;
export declare function closeFd(fd: number): void;
/** Whether `path` is on a mounted bpf filesystem. */
export declare function isBpfFs(path: string): boolean;
