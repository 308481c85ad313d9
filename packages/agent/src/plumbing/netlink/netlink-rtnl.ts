/** The agent's Rtnl: every operation one or two netlink exchanges inside the namespace (transport.ts). */
import { constants } from 'node:os';
import { open } from 'node:fs/promises';
import { NLM_F_ACK, NLM_F_REQUEST, message, str } from './message.js';
import { addVethMsg, delLinkMsg, dumpAddressesMsg, dumpLinksMsg, getLinkMsg, parseAddress, parseLink, setLinkMsgs } from './link-msg.js';
import type { Address, Filter, Hook, Link, LinkChange, Rtnl } from './rtnl.js';
import { addBpfMsg, addClsactMsg, delClsactMsg, delFiltersMsg, dumpFiltersMsg, dumpQdiscsMsg, isClsact, parseFilter } from './tc-msg.js';
import { NETLINK_NETFILTER, NETLINK_ROUTE, NetlinkError, exchange, ok, request, requestAll } from './transport.js';

const { EINVAL, ENODEV, ENOENT } = constants.errno;

const NFT_MSG_GETTABLE = (10 << 8) | 1;
const NFTA_TABLE_NAME = 1;
const NFPROTO: Record<string, number> = { inet: 1, ip: 2, arp: 3, netdev: 5, bridge: 7, ip6: 10 };

const route = (netns: string, msg: Buffer, what: string) => request(netns, NETLINK_ROUTE, { msg, what });

/** A missing device, namespace, qdisc or filter: what deletes count as done and reads as absent. */
export function isNetlinkGone(err: unknown): boolean {
  return err instanceof NetlinkError && (err.errno === ENODEV || err.errno === ENOENT || /Parent Qdisc doesn't exists|Cannot find specified qdisc/i.test(err.reason));
}

export class NetlinkRtnl implements Rtnl {
  async links(netns: string): Promise<Link[]> {
    return (await route(netns, dumpLinksMsg(), 'link dump')).map(parseLink);
  }

  async link(netns: string, name: string): Promise<Link | null> {
    const req = { msg: getLinkMsg(name), what: `link get ${name}` };
    const [r] = await exchange(netns, NETLINK_ROUTE, [req]);
    if (-r.error === ENODEV) return null;
    return ok(req, r).map(parseLink)[0] ?? null;
  }

  async addresses(netns: string): Promise<Address[]> {
    return (await route(netns, dumpAddressesMsg(), 'address dump')).flatMap((m) => parseAddress(m) ?? []);
  }

  async addVeth(netns: string, name: string, peer: string, peerNetns: string): Promise<Link> {
    // The kernel takes the peer's namespace as an fd of this process.
    const ns = await open(peerNetns, 'r');
    try {
      const [, got] = await requestAll(netns, NETLINK_ROUTE, [
        { msg: addVethMsg(name, peer, ns.fd), what: `link add ${name} type veth peer ${peer}` },
        { msg: getLinkMsg(name), what: `link get ${name}` },
      ]);
      return parseLink(got[0]);
    } finally {
      await ns.close();
    }
  }

  async setLink(netns: string, name: string, change: LinkChange): Promise<void> {
    const msgs = setLinkMsgs(name, change);
    if (msgs.length) await requestAll(netns, NETLINK_ROUTE, msgs.map((msg) => ({ msg, what: `link set ${name}` })));
  }

  async delLink(netns: string, name: string): Promise<void> {
    try {
      await route(netns, delLinkMsg(name), `link del ${name}`);
    } catch (err) {
      if (!isNetlinkGone(err)) throw err;
    }
  }

  async hasClsact(netns: string, ifindex: number): Promise<boolean> {
    // The dump lists every device's qdiscs (a missing device has none: the mirror's add fails then).
    return (await route(netns, dumpQdiscsMsg(), 'qdisc dump')).some((m) => isClsact(m, ifindex));
  }

  async filters(netns: string, ifindex: number, hook: Hook): Promise<Filter[]> {
    return (await route(netns, dumpFiltersMsg(ifindex, hook), `filter dump ${ifindex} ${hook}`)).map(parseFilter);
  }

  async addMirror(netns: string, ifindex: number, clsact: boolean, hooks: readonly { hook: Hook; pref: number }[], prog: { fd: number; name: string }): Promise<void> {
    await requestAll(netns, NETLINK_ROUTE, [
      ...(clsact ? [{ msg: addClsactMsg(ifindex), what: `qdisc add ${ifindex} clsact` }] : []),
      ...hooks.map((h) => ({ msg: addBpfMsg(ifindex, h.hook, h.pref, prog), what: `filter add ${ifindex} ${h.hook} pref ${h.pref} bpf "${prog.name}"` })),
    ]);
  }

  async delFilters(netns: string, ifindex: number, hook: Hook, pref: number): Promise<void> {
    await this.deleting(() => route(netns, delFiltersMsg(ifindex, hook, pref), `filter del ${ifindex} ${hook} pref ${pref}`));
  }

  async delClsact(netns: string, ifindex: number): Promise<void> {
    try {
      await this.deleting(() => route(netns, delClsactMsg(ifindex), `qdisc del ${ifindex} clsact`));
    } catch (err) {
      // Once a device had a clsact, its ingress slot keeps a placeholder qdisc whose handle is not
      // clsact's: the kernel then answers "Invalid handle" rather than "not found".
      if (!(err instanceof NetlinkError && err.errno === EINVAL && /Invalid handle/.test(err.reason))) throw err;
    }
  }

  async hasNftTable(netns: string, family: string, name: string): Promise<boolean> {
    const proto = NFPROTO[family];
    if (proto === undefined) throw new RangeError(`family: "${family}" is not an nftables family`);
    const nfgenmsg = Buffer.of(proto, 0, 0, 0);
    const req = { msg: message(NFT_MSG_GETTABLE, NLM_F_REQUEST | NLM_F_ACK, nfgenmsg, str(NFTA_TABLE_NAME, name)), what: `nft get table ${family} ${name}` };
    const [r] = await exchange(netns, NETLINK_NETFILTER, [req]);
    if (-r.error === ENOENT) return false;
    ok(req, r);
    return true;
  }

  private async deleting(del: () => Promise<unknown>): Promise<void> {
    try {
      await del();
    } catch (err) {
      if (!isNetlinkGone(err)) throw err;
    }
  }
}
