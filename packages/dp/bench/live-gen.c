/*
 * Traffic generator for bench/live-rate.mjs: replays the Ethernet frames of a pcap file at a fixed
 * rate, as the two ends of a conversation would put them on the wire.
 *
 *   live-gen probe PCAP
 *       prints {"frames","skipped","serverMac"}: the server side is the destination MAC of the
 *       first TCP SYN without ACK.
 *   live-gen send PCAP RATE_PPS SECONDS SERVER_MAC CLIENT_NS CLIENT_IF [SERVER_NS SERVER_IF]
 *       sends for SECONDS at RATE_PPS, looping over the file, then prints what it sent as JSON.
 *       With SERVER_NS, frames whose source MAC is SERVER_MAC leave from the server's interface
 *       (through its qdisc, so its tc egress hook sees them) and the rest from the client's, which
 *       the server's interface then receives (tc ingress). Without it, every frame leaves CLIENT_IF.
 *
 * Each pass over the file after the first moves every client to another subnet (IPv4 second
 * octet, IPv6 fifth byte, XORed with the pass number) and fixes the IP and TCP/UDP/ICMPv6
 * checksums, so a pass opens new sessions instead of replaying the first pass's 5-tuples.
 * Frames keep their order: a batch for one side ends where the next frame belongs to the other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
/* Largest frame kept from the file: an Ethernet header and the largest IP packet. */
#define MAX_FRAME (14 + 65535)
/* The client subnet is XORed with the pass number; 128 keeps 10.128/9 clients inside 10.128/9. */
#define MAX_PASSES 128

struct frame {
  const uint8_t *data;
  uint32_t len;
  uint8_t server; /* sent by the server side */
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t rd32(const uint8_t *p, int swap) {
  uint32_t v;
  memcpy(&v, p, 4);
  return swap ? __builtin_bswap32(v) : v;
}

static int parse_mac(const char *s, uint8_t mac[6]) {
  unsigned b[6];
  if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) return -1;
  for (int i = 0; i < 6; i++) mac[i] = (uint8_t)b[i];
  return 0;
}

/* Offset of the network header after any 802.1Q/802.1ad tags, and its EtherType; -1 if cut short. */
static int l3_offset(const uint8_t *f, uint32_t len, uint16_t *type) {
  uint32_t off = 12;
  for (;;) {
    if (off + 2 > len) return -1;
    uint16_t t = (uint16_t)(f[off] << 8 | f[off + 1]);
    if (t == 0x8100 || t == 0x88a8) {
      off += 4;
      continue;
    }
    *type = t;
    return (int)off + 2;
  }
}

/*
 * Loads every record of a classic pcap file with Ethernet link type. Frames that cannot be sent
 * (shorter than an Ethernet header, longer than max_frame, or cut by the snap length) are skipped
 * and counted.
 */
static struct frame *load(const char *path, uint32_t max_frame, size_t *count, size_t *skipped) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) { perror("live-gen: open"); exit(1); }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < 24) { fprintf(stderr, "live-gen: %s: not a pcap file\n", path); exit(1); }
  const uint8_t *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (m == MAP_FAILED) { perror("live-gen: mmap"); exit(1); }
  close(fd);
  uint32_t magic;
  memcpy(&magic, m, 4);
  int swap;
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) swap = 0;
  else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) swap = 1;
  else { fprintf(stderr, "live-gen: %s: not a classic pcap file (pcapng is not supported)\n", path); exit(1); }
  if ((rd32(m + 20, swap) & 0x0fffffff) != 1) { fprintf(stderr, "live-gen: %s: link type is not Ethernet\n", path); exit(1); }

  size_t cap = 1 << 20, n = 0;
  struct frame *fr = malloc(cap * sizeof *fr);
  *skipped = 0;
  for (size_t off = 24; off + 16 <= (size_t)st.st_size;) {
    uint32_t incl = rd32(m + off + 8, swap), orig = rd32(m + off + 12, swap);
    if (off + 16 + incl > (size_t)st.st_size) break;
    if (incl < 14 || incl > max_frame || incl != orig) {
      (*skipped)++;
    } else {
      if (n == cap) fr = realloc(fr, (cap *= 2) * sizeof *fr);
      fr[n++] = (struct frame){m + off + 16, incl, 0};
    }
    off += 16 + incl;
  }
  if (fr == NULL || n == 0) { fprintf(stderr, "live-gen: %s: no usable frames\n", path); exit(1); }
  *count = n;
  return fr;
}

/* The server's MAC: destination of the first TCP SYN without ACK (the client opens). */
static int find_server_mac(const struct frame *fr, size_t n, uint8_t mac[6]) {
  for (size_t i = 0; i < n; i++) {
    const uint8_t *f = fr[i].data;
    uint16_t type;
    int l3 = l3_offset(f, fr[i].len, &type);
    if (l3 < 0) continue;
    uint32_t l4, proto;
    if (type == 0x0800 && (uint32_t)l3 + 20 <= fr[i].len) {
      l4 = (uint32_t)l3 + (f[l3] & 0x0f) * 4u;
      proto = f[l3 + 9];
    } else if (type == 0x86dd && (uint32_t)l3 + 40 <= fr[i].len) {
      l4 = (uint32_t)l3 + 40;
      proto = f[l3 + 6];
    } else {
      continue;
    }
    if (proto == 6 && l4 + 14 <= fr[i].len && (f[l4 + 13] & 0x12) == 0x02) {
      memcpy(mac, f, 6);
      return 0;
    }
  }
  return -1;
}

/* RFC 1624 eq. 3: HC' = ~(~HC + ~m + m') for a 16-bit word changed from m to m'. */
static void csum_replace(uint8_t *c, uint16_t from, uint16_t to, int udp) {
  uint16_t hc = (uint16_t)(c[0] << 8 | c[1]);
  if (udp && hc == 0) return; /* UDP over IPv4 without checksum stays without one */
  uint32_t s = (uint16_t)~hc + (uint32_t)(uint16_t)~from + to;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  uint16_t r = (uint16_t)~s;
  if (udp && r == 0) r = 0xffff; /* 0 would mean "no checksum" (RFC 768) */
  c[0] = r >> 8;
  c[1] = r & 0xff;
}

/*
 * Moves the client address of frame f (source if the client sent it, else destination) by XORing
 * `pass` into one byte, and updates the checksums that cover it: the IPv4 header's, and the
 * TCP/UDP/ICMPv6 one through the pseudo-header.
 */
static void move_client(uint8_t *f, uint32_t len, int server_sent, unsigned pass) {
  uint16_t type;
  int l3 = l3_offset(f, len, &type);
  if (l3 < 0) return;
  uint8_t *ip = f + l3, *addr, *l4 = NULL, proto = 0;
  uint32_t room = len - (uint32_t)l3;
  int b; /* the byte of the address that changes */
  if (type == 0x0800 && room >= 20) {
    addr = ip + (server_sent ? 16 : 12);
    b = 1;
    uint32_t ihl = (ip[0] & 0x0f) * 4u;
    if (((ip[6] & 0x1f) | ip[7]) == 0 && ihl >= 20 && ihl <= room) { /* offset 0: the L4 header is here */
      l4 = ip + ihl;
      proto = ip[9];
    }
  } else if (type == 0x86dd && room >= 40) {
    addr = ip + (server_sent ? 24 : 8);
    b = 4;
    l4 = ip + 40;
    proto = ip[6];
  } else {
    return;
  }
  int w = b & ~1; /* checksums add 16-bit words */
  uint16_t from = (uint16_t)(addr[w] << 8 | addr[w + 1]);
  addr[b] ^= (uint8_t)pass;
  uint16_t to = (uint16_t)(addr[w] << 8 | addr[w + 1]);
  if (type == 0x0800) csum_replace(ip + 10, from, to, 0);
  if (l4 == NULL) return;
  uint32_t l4room = len - (uint32_t)(l4 - f);
  if (proto == 6 && l4room >= 18) csum_replace(l4 + 16, from, to, 0);
  else if (proto == 17 && l4room >= 8) csum_replace(l4 + 6, from, to, type == 0x0800);
  else if (proto == 58 && l4room >= 4) csum_replace(l4 + 2, from, to, 0);
}

/*
 * An AF_PACKET socket for sending only, created in network namespace `ns` and bound to `ifname`.
 * Lowers *max_frame to the largest frame the interface's MTU lets through.
 */
static int open_sender(const char *ns, const char *ifname, int bypass_qdisc, uint32_t *max_frame) {
  char path[256];
  snprintf(path, sizeof path, "/run/netns/%s", ns);
  int nsfd = open(path, O_RDONLY);
  if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) { perror("live-gen: setns"); exit(1); }
  close(nsfd);
  int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, never receive */
  if (fd < 0) { perror("live-gen: socket"); exit(1); }
  /* The client side may skip its qdisc (nothing is attached there); the server side must not,
     or its tc egress mirror would never see the frames. */
  int one = 1;
  if (bypass_qdisc) setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname)};
  if (a.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("live-gen: bind"); exit(1); }
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl(fd, SIOCGIFMTU, &ifr) != 0) { perror("live-gen: SIOCGIFMTU"); exit(1); }
  if ((uint32_t)ifr.ifr_mtu + 14 < *max_frame) *max_frame = (uint32_t)ifr.ifr_mtu + 14;
  return fd;
}

int main(int argc, char **argv) {
  size_t n, skipped;
  if (argc == 3 && strcmp(argv[1], "probe") == 0) {
    struct frame *fr = load(argv[2], MAX_FRAME, &n, &skipped);
    uint8_t mac[6];
    if (find_server_mac(fr, n, mac) != 0) { fprintf(stderr, "live-gen: no TCP SYN to tell the server side\n"); return 1; }
    printf("{\"frames\":%zu,\"skipped\":%zu,\"serverMac\":\"%02x:%02x:%02x:%02x:%02x:%02x\"}\n", n, skipped,
           mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return 0;
  }
  if (!((argc == 8 || argc == 10) && strcmp(argv[1], "send") == 0)) {
    fprintf(stderr, "usage: live-gen probe PCAP\n"
                    "       live-gen send PCAP RATE_PPS SECONDS SERVER_MAC CLIENT_NS CLIENT_IF [SERVER_NS SERVER_IF]\n");
    return 2;
  }
  double rate = atof(argv[3]), seconds = atof(argv[4]);
  uint8_t server_mac[6];
  if (rate <= 0 || seconds <= 0 || parse_mac(argv[5], server_mac) != 0) {
    fprintf(stderr, "live-gen: need RATE_PPS > 0, SECONDS > 0 and SERVER_MAC like 02:00:00:00:00:01\n");
    return 2;
  }
  int two_sides = argc == 10;
  uint32_t max_frame = MAX_FRAME;
  int fds[2];
  fds[0] = open_sender(argv[6], argv[7], 1, &max_frame);
  fds[1] = two_sides ? open_sender(argv[8], argv[9], 0, &max_frame) : -1;
  struct frame *fr = load(argv[2], max_frame, &n, &skipped);
  uint64_t total = (uint64_t)(rate * seconds);
  if (total / n >= MAX_PASSES) {
    fprintf(stderr, "live-gen: %llu frames need more than %d passes over %zu frames\n", (unsigned long long)total, MAX_PASSES, n);
    return 2;
  }
  for (size_t i = 0; i < n; i++) fr[i].server = two_sides && memcmp(fr[i].data + 6, server_mac, 6) == 0;

  static uint8_t buf[BATCH][MAX_FRAME];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = buf[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }

  uint64_t done = 0, sent[2] = {0, 0}, failed = 0, bytes = 0, calls = 0;
  double start = now(), deadline = start + seconds * 2 + 1;
  while (done < total) {
    /* Pace: sleep until the schedule reaches this batch; the deadline bounds a stalled run. */
    double due = start + (double)done / rate, t = now();
    if (t > deadline) break;
    if (due > t) {
      struct timespec ts = {(time_t)(due - t), (long)(((due - t) - (time_t)(due - t)) * 1e9)};
      nanosleep(&ts, NULL);
    }
    size_t first = done % n;
    int side = fr[first].server;
    unsigned k = 0;
    while (k < BATCH && done + k < total) {
      uint64_t seq = done + k;
      const struct frame *f = &fr[seq % n];
      if (f->server != side) break;
      memcpy(buf[k], f->data, f->len);
      unsigned pass = (unsigned)(seq / n);
      if (pass > 0) move_client(buf[k], f->len, memcmp(f->data + 6, server_mac, 6) == 0, pass);
      iov[k].iov_len = f->len;
      k++;
    }
    int r = sendmmsg(fds[side], msgs, k, 0);
    calls++;
    if (r < 0) {
      if (errno != ENOBUFS && errno != EAGAIN) { perror("live-gen: sendmmsg"); return 1; }
      r = 0;
    }
    sent[side] += (uint64_t)r;
    failed += k - (unsigned)r;
    for (int i = 0; i < r; i++) bytes += iov[i].iov_len;
    done += k;
  }
  double elapsed = now() - start;
  printf("{\"sent\":%llu,\"sentByClient\":%llu,\"sentByServer\":%llu,\"failed\":%llu,\"bytes\":%llu,\"seconds\":%.3f,"
         "\"pps\":%.0f,\"passes\":%.2f,\"fileFrames\":%zu,\"skipped\":%zu,\"sendmmsgCalls\":%llu}\n",
         (unsigned long long)(sent[0] + sent[1]), (unsigned long long)sent[0], (unsigned long long)sent[1],
         (unsigned long long)failed, (unsigned long long)bytes, elapsed, (sent[0] + sent[1]) / elapsed,
         (double)done / n, n, skipped, (unsigned long long)calls);
  return 0;
}
