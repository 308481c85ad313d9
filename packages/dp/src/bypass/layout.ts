/**
 * The session bypass map, shared by the mirror program (program.ts, attached by the agent to each
 * container interface) and the DP (bypass-table.ts): one entry per direction of a TCP session the
 * DP has nothing more to learn from. The program counts such packets into the entry instead of
 * mirroring them; the DP adds the counts to the session.
 *
 * Key (40 bytes): the DP port's ifindex (u32, host order), source and destination TCP ports (as on
 * the wire), source and destination address (16 bytes each, IPv4 mapped into ::ffff:0:0/96 as
 * the DP's address words are). Value (16 bytes): packets and IP bytes (u64, host order).
 */
export const KEY_SIZE = 40;
export const VALUE_SIZE = 16;
export const KEY_PORT = 0;
export const KEY_SPORT = 4;
export const KEY_DPORT = 6;
export const KEY_SADDR = 8;
export const KEY_DADDR = 24;
export const VALUE_PACKETS = 0;
export const VALUE_BYTES = 8;

/** BPF_MAP_TYPE_HASH. */
export const MAP_TYPE_HASH = 1;
/** Bypassed sessions at once (two entries each); past this, sessions stay mirrored. */
export const MAP_SESSIONS = 65_536;
export const MAP_ENTRIES = MAP_SESSIONS * 2;
export const MAP_NAME = 'mseg_bypass';

/** Writes the key of the direction src → dst at `off`. Address words as in net/address.ts. */
export function writeKey(out: DataView, off: number, port: number, src: ArrayLike<number>, sport: number, dst: ArrayLike<number>, dport: number): void {
  out.setUint32(off + KEY_PORT, port, true);
  out.setUint16(off + KEY_SPORT, sport, false);
  out.setUint16(off + KEY_DPORT, dport, false);
  for (let i = 0; i < 4; i++) {
    out.setUint32(off + KEY_SADDR + i * 4, src[i], false);
    out.setUint32(off + KEY_DADDR + i * 4, dst[i], false);
  }
}

/** Whether a pinned or opened map is ours, of this layout. */
export function isBypassMap(info: { type: number; keySize: number; valueSize: number; name: string }): boolean {
  return info.type === MAP_TYPE_HASH && info.keySize === KEY_SIZE && info.valueSize === VALUE_SIZE && info.name === MAP_NAME;
}
