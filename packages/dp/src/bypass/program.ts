/**
 * The mirror program: a tc (cls_bpf, direct-action) program on a container interface's ingress
 * and egress that copies each packet onto nv-ex — what `u32 match all + mirred egress mirror` did
 * — except TCP segments of sessions in the bypass map (layout.ts), which it only counts.
 * Everything the DP must still see is copied: non-IP, non-TCP, IP fragments, IPv6 with extension
 * headers, SYN/FIN/RST segments (handshake checks, session end), headers outside the linear part.
 * It returns TC_ACT_UNSPEC, so filters after it run as after a `pipe` action.
 *
 * Hand-assembled: the program is about 90 instructions, and a compiler toolchain on every host for it
 * would cost more than the assembler below. The kernel's verifier checks every access.
 */
import { KEY_DADDR, KEY_DPORT, KEY_PORT, KEY_SADDR, KEY_SIZE, KEY_SPORT, VALUE_BYTES, VALUE_PACKETS } from './layout.js';

export const PROG_TYPE_SCHED_CLS = 3;
/** Bumped whenever the program changes, so the agent replaces filters running an older one. */
export const PROGRAM_VERSION = 1;
export const PROGRAM_NAME = 'mseg_mirror';
export const PROGRAM_LICENSE = 'Proprietary';

export interface MirrorProgramParams {
  /** Descriptor of the bypass map in the loading process. */
  mapFd: number;
  /** nv-ex's ifindex in the container namespace: where copies go. */
  mirrorTo: number;
  /** The DP port (nv-in's ifindex in the capture namespace): the key's first field. */
  port: number;
}

// Instruction classes, sizes, modes, operations (linux/bpf_common.h, linux/bpf.h).
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, ALU64 = 0x07;
const W = 0x00, H = 0x08, B = 0x10, DW = 0x18;
const IMM = 0x00, MEM = 0x60, ATOMIC = 0xc0;
const K = 0x00, X = 0x08;
const ADD = 0x00, AND = 0x50, LSH = 0x60, MOV = 0xb0, END = 0xd0, TO_BE = 0x08;
const JA = 0x00, JEQ = 0x10, JGT = 0x20, JNE = 0x50, JLT = 0xa0, CALL = 0x80, EXIT = 0x90;
const PSEUDO_MAP_FD = 1;
const FN_MAP_LOOKUP_ELEM = 1;
const FN_CLONE_REDIRECT = 13;
const TC_ACT_UNSPEC = -1;

// struct __sk_buff offsets.
const SKB_DATA = 76;
const SKB_DATA_END = 80;

const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R10 = 10;
/** The key lives at the bottom of the stack: fp-40 … fp-1. */
const FP_KEY = -KEY_SIZE;

const ETH_HLEN = 14;
/** EtherTypes as a little-endian u16 load of their network-order bytes reads them. */
const ETH_P_IP_LE = 0x0008;
const ETH_P_IPV6_LE = 0xdd86;
const IPPROTO_TCP = 6;
const TCP_FIN_SYN_RST = 0x07;
/** IPv4 flags+fragment offset with MF and the offset set, as a little-endian u16 load sees them. */
const IP_MF_OFFSET_LE = 0xff3f;

type Label = string;

/** A tiny assembler: instructions, labels, and jumps resolved at the end. */
class Asm {
  private readonly insns: { op: number; dst: number; src: number; off: number; imm: number; to?: Label }[] = [];
  private readonly labels = new Map<Label, number>();

  label(name: Label): void {
    this.labels.set(name, this.insns.length);
  }

  private emit(op: number, dst: number, src: number, off: number, imm: number, to?: Label): void {
    this.insns.push({ op, dst, src, off, imm, to });
  }

  mov(dst: number, imm: number): void { this.emit(ALU64 | MOV | K, dst, 0, 0, imm); }
  movX(dst: number, src: number): void { this.emit(ALU64 | MOV | X, dst, src, 0, 0); }
  add(dst: number, imm: number): void { this.emit(ALU64 | ADD | K, dst, 0, 0, imm); }
  addX(dst: number, src: number): void { this.emit(ALU64 | ADD | X, dst, src, 0, 0); }
  and(dst: number, imm: number): void { this.emit(ALU64 | AND | K, dst, 0, 0, imm); }
  lsh(dst: number, imm: number): void { this.emit(ALU64 | LSH | K, dst, 0, 0, imm); }
  be16(dst: number): void { this.emit(ALU | END | TO_BE, dst, 0, 0, 16); }
  ldx(size: number, dst: number, src: number, off: number): void { this.emit(LDX | size | MEM, dst, src, off, 0); }
  stx(size: number, dst: number, off: number, src: number): void { this.emit(STX | size | MEM, dst, src, off, 0); }
  st(size: number, dst: number, off: number, imm: number): void { this.emit(ST | size | MEM, dst, 0, off, imm); }
  atomicAdd64(dst: number, off: number, src: number): void { this.emit(STX | DW | ATOMIC, dst, src, off, ADD); }
  jmp(op: number, dst: number, imm: number, to: Label): void { this.emit(JMP | op | K, dst, 0, 0, imm, to); }
  jmpX(op: number, dst: number, src: number, to: Label): void { this.emit(JMP | op | X, dst, src, 0, 0, to); }
  ja(to: Label): void { this.emit(JMP | JA, 0, 0, 0, 0, to); }
  call(fn: number): void { this.emit(JMP | CALL, 0, 0, 0, fn); }
  exit(): void { this.emit(JMP | EXIT, 0, 0, 0, 0); }
  /** Loads a map's address (the kernel swaps the descriptor for it): two instruction slots. */
  ldMap(dst: number, fd: number): void {
    this.emit(LD | DW | IMM, dst, PSEUDO_MAP_FD, 0, fd);
    this.emit(0, 0, 0, 0, 0);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.insns.length * 8);
    const v = new DataView(out.buffer);
    this.insns.forEach((ins, i) => {
      let off = ins.off;
      if (ins.to !== undefined) {
        const at = this.labels.get(ins.to);
        if (at === undefined) throw new Error(`mirror program: no label ${ins.to}`);
        off = at - i - 1;
      }
      v.setUint8(i * 8, ins.op);
      v.setUint8(i * 8 + 1, (ins.src << 4) | ins.dst);
      v.setInt16(i * 8 + 2, off, true);
      v.setInt32(i * 8 + 4, ins.imm, true);
    });
    return out;
  }
}

/** The program's instructions for one container interface. */
export function mirrorProgram(p: MirrorProgramParams): Uint8Array {
  const a = new Asm();
  // r6 skb, r2 data, r3 data_end; r4 the TCP header, r7 the IPv4 header length, r8 IP bytes.
  a.movX(R6, R1);
  a.ldx(W, R2, R6, SKB_DATA);
  a.ldx(W, R3, R6, SKB_DATA_END);
  for (let o = 0; o < KEY_SIZE; o += 8) a.st(DW, R10, FP_KEY + o, 0);
  a.st(W, R10, FP_KEY + KEY_PORT, p.port);
  a.movX(R4, R2);
  a.add(R4, ETH_HLEN);
  a.jmpX(JGT, R4, R3, 'mirror');
  a.ldx(H, R5, R2, 12);
  a.jmp(JEQ, R5, ETH_P_IP_LE, 'ipv4');
  a.jmp(JEQ, R5, ETH_P_IPV6_LE, 'ipv6');
  a.ja('mirror');

  a.label('ipv4');
  a.movX(R4, R2);
  a.add(R4, ETH_HLEN + 20);
  a.jmpX(JGT, R4, R3, 'mirror');
  a.ldx(B, R5, R2, ETH_HLEN);
  a.movX(R7, R5);
  a.and(R5, 0xf0);
  a.jmp(JNE, R5, 0x40, 'mirror');
  a.and(R7, 0x0f);
  a.lsh(R7, 2);
  a.jmp(JLT, R7, 20, 'mirror');
  a.ldx(B, R5, R2, ETH_HLEN + 9);
  a.jmp(JNE, R5, IPPROTO_TCP, 'mirror');
  a.ldx(H, R5, R2, ETH_HLEN + 6);
  a.and(R5, IP_MF_OFFSET_LE);
  a.jmp(JNE, R5, 0, 'mirror');
  a.ldx(H, R8, R2, ETH_HLEN + 2);
  a.be16(R8);
  a.st(H, R10, FP_KEY + KEY_SADDR + 10, 0xffff);
  a.ldx(W, R5, R2, ETH_HLEN + 12);
  a.stx(W, R10, FP_KEY + KEY_SADDR + 12, R5);
  a.st(H, R10, FP_KEY + KEY_DADDR + 10, 0xffff);
  a.ldx(W, R5, R2, ETH_HLEN + 16);
  a.stx(W, R10, FP_KEY + KEY_DADDR + 12, R5);
  a.movX(R4, R2);
  a.addX(R4, R7);
  a.add(R4, ETH_HLEN);
  a.ja('tcp');

  a.label('ipv6');
  a.movX(R4, R2);
  a.add(R4, ETH_HLEN + 40);
  a.jmpX(JGT, R4, R3, 'mirror');
  a.ldx(B, R5, R2, ETH_HLEN + 6);
  a.jmp(JNE, R5, IPPROTO_TCP, 'mirror');
  a.ldx(H, R8, R2, ETH_HLEN + 4);
  a.be16(R8);
  a.add(R8, 40);
  for (let i = 0; i < 4; i++) {
    a.ldx(W, R5, R2, ETH_HLEN + 8 + i * 4);
    a.stx(W, R10, FP_KEY + KEY_SADDR + i * 4, R5);
    a.ldx(W, R5, R2, ETH_HLEN + 24 + i * 4);
    a.stx(W, R10, FP_KEY + KEY_DADDR + i * 4, R5);
  }

  a.label('tcp');
  a.movX(R5, R4);
  a.add(R5, 20);
  a.jmpX(JGT, R5, R3, 'mirror');
  a.ldx(B, R5, R4, 13);
  a.and(R5, TCP_FIN_SYN_RST);
  a.jmp(JNE, R5, 0, 'mirror');
  // Source and destination port side by side, as on the wire.
  a.ldx(W, R5, R4, 0);
  a.stx(W, R10, FP_KEY + KEY_SPORT, R5);
  a.ldMap(R1, p.mapFd);
  a.movX(R2, R10);
  a.add(R2, FP_KEY);
  a.call(FN_MAP_LOOKUP_ELEM);
  a.jmp(JEQ, R0, 0, 'mirror');
  a.mov(R1, 1);
  a.atomicAdd64(R0, VALUE_PACKETS, R1);
  a.atomicAdd64(R0, VALUE_BYTES, R8);
  a.mov(R0, TC_ACT_UNSPEC);
  a.exit();

  a.label('mirror');
  a.movX(R1, R6);
  a.mov(R2, p.mirrorTo);
  a.mov(R3, 0);
  a.call(FN_CLONE_REDIRECT);
  a.mov(R0, TC_ACT_UNSPEC);
  a.exit();
  return a.bytes();
}

// KEY_DPORT follows KEY_SPORT: the one 32-bit store above writes both.
if (KEY_DPORT !== KEY_SPORT + 2) throw new Error('bypass key: ports must be adjacent');
