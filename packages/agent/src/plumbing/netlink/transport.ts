/**
 * One netlink exchange: requests (each asking for an ack or a dump) sent together from a fresh
 * socket inside the target namespace (the capture addon makes it there), the replies sorted back
 * to their request by sequence number. In-process: no `nsenter` + `ip`/`tc` pair to spawn.
 */
import { constants } from 'node:os';
import { netlinkRequest } from '@mseg/capture';
import { NLMSG_DONE, NLMSG_ERROR, parseAck, parseMessages, setSeq, type Message } from './message.js';

export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The kernel refused a request (`errno` positive, `reason` its extended-ack text), or the namespace is gone. */
export class NetlinkError extends Error {
  readonly code = 'MSEG_ERR_AGENT_NETLINK';
  constructor(
    readonly what: string,
    readonly errno: number,
    readonly reason: string,
  ) {
    super(`${what}: ${ERRNO_NAMES.get(errno) ?? `errno ${errno}`}${reason ? ` (${reason})` : ''}`);
  }
}

export interface Reply {
  /** 0 or the negative errno of this request. */
  error: number;
  reason: string;
  /** Data messages answering it (a get's object, a dump's entries). */
  messages: Message[];
}

export interface Request {
  msg: Buffer;
  /** Names the request in errors, e.g. `link add nv-ex-eth0`. */
  what: string;
}

let nextSeq = 1;

/** Sends the requests in one exchange; one reply each, in order. Rejects only when the exchange fails. */
export async function exchange(netns: string, protocol: number, requests: readonly Request[]): Promise<Reply[]> {
  const first = nextSeq;
  nextSeq = (nextSeq + requests.length) % 0x7fffffff || 1;
  requests.forEach((r, i) => setSeq(r.msg, first + i));
  let raw: Buffer;
  try {
    raw = await netlinkRequest(netns, protocol, Buffer.concat(requests.map((r) => r.msg)), requests.length);
  } catch (err) {
    const e = err as { code?: string; errno?: number; message?: string };
    throw new NetlinkError(`${requests[0].what} in ${netns}`, e.errno ? -e.errno : constants.errno.EIO, e.message ?? String(err));
  }
  const replies: Reply[] = requests.map(() => ({ error: 0, reason: '', messages: [] }));
  for (const m of parseMessages(raw)) {
    const r = replies[m.seq - first];
    if (!r) continue;
    if (m.type === NLMSG_ERROR) Object.assign(r, parseAck(m));
    else if (m.type !== NLMSG_DONE) r.messages.push(m);
  }
  return replies;
}

/** The reply's messages, or its refusal as a NetlinkError. */
export function ok(req: Request, r: Reply): Message[] {
  if (r.error) throw new NetlinkError(req.what, -r.error, r.reason);
  return r.messages;
}

/** One request; its data messages. */
export async function request(netns: string, protocol: number, req: Request): Promise<Message[]> {
  const [r] = await exchange(netns, protocol, [req]);
  return ok(req, r);
}

/** Every request must succeed; the first refusal is thrown (after all were tried, as the kernel does). */
export async function requestAll(netns: string, protocol: number, reqs: readonly Request[]): Promise<Message[][]> {
  const replies = await exchange(netns, protocol, reqs);
  return replies.map((r, i) => ok(reqs[i], r));
}
