/**
 * DNS tunnelling heuristics. Tunnels (iodine, dnscat2, dns2tcp and the like) carry data as base32,
 * base64, hex or raw octets in the labels left of their own domain, so their query names are long,
 * made of long labels and look random. Long names from CDNs, cloud load balancers or reverse
 * lookups are either built from words (low character entropy, few digits) or from one-character
 * labels (ip6.arpa nibbles), which the mean label length excludes.
 */

/** Names this long or labels this long are worth a closer look (~100 and ~50 in the threat definition). */
export const LONG_NAME = 100;
export const LONG_LABEL = 50;
/** Fewer data characters than this say too little to judge. */
const MIN_DATA_CHARS = 24;
/** Word-built and nibble names have short labels on average; encoded data fills labels. */
const MIN_MEAN_LABEL = 6;

const counts = new Uint16Array(256);
const LOG2 = Math.log(2);

/**
 * Whether the labels of the name at `off` (a well-formed, uncompressed or compressed name of the
 * message starting at `msg`), minus the last two (the tunnel's own domain), look like encoded data.
 */
export function looksEncoded(b: Uint8Array, msg: number, end: number, off: number): boolean {
  const labels = countLabels(b, msg, end, off);
  if (labels < 3) return false;
  const dataLabels = labels - 2;
  let n = 0;
  let digits = 0;
  let odd = 0;
  // Adjacent letter/digit and lower/upper changes: encoders scatter them, words and numbers don't.
  let classSwitches = 0;
  let caseSwitches = 0;
  let p = off;
  for (let l = 0; l < dataLabels; l++) {
    p = follow(b, msg, end, p);
    const len = b[p];
    let prev = OTHER;
    for (let i = p + 1; i <= p + len; i++) {
      const c = b[i];
      counts[c]++;
      n++;
      const k = charClass(c);
      if (k === DIGIT) digits++;
      else if (k === OTHER && c !== 0x2d && c !== 0x5f) odd++;
      if ((k === DIGIT && (prev === LOWER || prev === UPPER)) || (prev === DIGIT && (k === LOWER || k === UPPER))) classSwitches++;
      else if ((k === LOWER && prev === UPPER) || (k === UPPER && prev === LOWER)) caseSwitches++;
      prev = k;
    }
    p += 1 + len;
  }
  // Shannon entropy of the data characters, clearing the counters as they are read.
  let h = 0;
  p = off;
  for (let l = 0; l < dataLabels; l++) {
    p = follow(b, msg, end, p);
    const len = b[p];
    for (let i = p + 1; i <= p + len; i++) {
      const k = counts[b[i]];
      if (k === 0) continue;
      const f = k / n;
      h -= f * Math.log(f);
      counts[b[i]] = 0;
    }
    p += 1 + len;
  }
  h /= LOG2;
  if (n < MIN_DATA_CHARS || n / dataLabels < MIN_MEAN_LABEL) return false;
  // Raw octets outside the host-name alphabet (iodine's raw and base128 encodings).
  if (odd >= 4) return true;
  // base32, base36 and hex: digits scattered among the letters (hex has at most 4 bits per character).
  if (h >= 3.4 && digits / n >= 0.1 && classSwitches / n >= 0.12) return true;
  // base64: near 6 bits per character with the case changing all the time.
  return h >= 4.0 && caseSwitches / n >= 0.2;
}

const DIGIT = 0;
const LOWER = 1;
const UPPER = 2;
const OTHER = 3;

function charClass(c: number): number {
  if (c >= 0x30 && c <= 0x39) return DIGIT;
  if (c >= 0x61 && c <= 0x7a) return LOWER;
  if (c >= 0x41 && c <= 0x5a) return UPPER;
  return OTHER;
}

function countLabels(b: Uint8Array, msg: number, end: number, off: number): number {
  let labels = 0;
  let p = follow(b, msg, end, off);
  while (b[p] !== 0) {
    labels++;
    p = follow(b, msg, end, p + 1 + b[p]);
  }
  return labels;
}

/** Follow compression pointers; the name already walked as NAME_OK, so the hops are backwards and in bounds. */
function follow(b: Uint8Array, msg: number, end: number, p: number): number {
  while (p + 1 < end && (b[p] & 0xc0) === 0xc0) p = msg + (((b[p] & 0x3f) << 8) | b[p + 1]);
  return p;
}
