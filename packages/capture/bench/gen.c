/*
 * Frame generator for bench/rate.mjs: sends Ethernet/IPv4/UDP frames out of one interface from an
 * AF_PACKET socket at a fixed rate for a fixed time, then prints what it sent as JSON.
 *
 * usage: gen IFNAME RATE_PPS SECONDS FRAME_LEN
 *
 * The destination MAC is not the peer's, so the receiving namespace sees PACKET_OTHERHOST frames
 * that its IP stack discards at once: the capture socket is the only real consumer.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* RFC 791 header checksum: one's complement of the one's complement sum of 16-bit words. */
static uint16_t ip_checksum(const uint8_t *h, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i < len; i += 2) sum += (uint32_t)(h[i] << 8 | h[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static void build_frame(uint8_t *f, size_t len) {
  static const uint8_t dst[6] = {0x02, 0x6d, 0x73, 0x65, 0x67, 0x01};
  static const uint8_t src[6] = {0x02, 0x6d, 0x73, 0x65, 0x67, 0x02};
  memset(f, 0, len);
  memcpy(f, dst, 6);
  memcpy(f + 6, src, 6);
  f[12] = 0x08; /* IPv4 */
  uint8_t *ip = f + 14;
  size_t ip_len = len - 14;
  ip[0] = 0x45;
  ip[2] = ip_len >> 8;
  ip[3] = ip_len & 0xff;
  ip[8] = 64;
  ip[9] = 17; /* UDP */
  memcpy(ip + 12, (uint8_t[]){10, 213, 0, 2}, 4);
  memcpy(ip + 16, (uint8_t[]){10, 213, 0, 1}, 4);
  uint16_t c = ip_checksum(ip, 20);
  ip[10] = c >> 8;
  ip[11] = c & 0xff;
  uint8_t *udp = ip + 20;
  size_t udp_len = ip_len - 20;
  udp[0] = 0x9c; udp[1] = 0x40; /* ports 40000 -> 40000; UDP checksum 0 = none (RFC 768) */
  udp[2] = 0x9c; udp[3] = 0x40;
  udp[4] = udp_len >> 8;
  udp[5] = udp_len & 0xff;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: gen IFNAME RATE_PPS SECONDS FRAME_LEN\n");
    return 2;
  }
  double rate = atof(argv[2]), seconds = atof(argv[3]);
  size_t len = (size_t)atoi(argv[4]);
  if (rate <= 0 || seconds <= 0 || len < 60 || len > 1514) {
    fprintf(stderr, "gen: need RATE_PPS > 0, SECONDS > 0, 60 <= FRAME_LEN <= 1514\n");
    return 2;
  }
  int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, never receive */
  if (fd < 0) { perror("gen: socket"); return 1; }
  int one = 1;
  /* Skip the qdisc: the bench measures the capture, not queueing in the sender. */
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  struct sockaddr_ll addr = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(argv[1])};
  if (addr.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    perror("gen: bind");
    return 1;
  }

  static uint8_t frames[BATCH][1514];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    build_frame(frames[i], len);
    iov[i].iov_base = frames[i];
    iov[i].iov_len = len;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }

  uint64_t total = (uint64_t)(rate * seconds), sent = 0, failed = 0;
  double start = now();
  while (sent + failed < total) {
    /* Pace: sleep until the schedule reaches this batch; the deadline bounds a stalled run. */
    double due = start + (double)(sent + failed) / rate, t = now();
    if (t > start + seconds * 2 + 1) break;
    if (due > t) {
      struct timespec ts = {0, (long)((due - t) * 1e9)};
      nanosleep(&ts, NULL);
    }
    unsigned n = total - sent - failed < BATCH ? (unsigned)(total - sent - failed) : BATCH;
    for (unsigned i = 0; i < n; i++) {
      uint64_t seq = sent + failed + i; /* sequence number at the start of the UDP payload */
      memcpy(frames[i] + 42, &seq, sizeof seq);
    }
    int r = sendmmsg(fd, msgs, n, 0);
    if (r < 0) {
      if (errno != ENOBUFS && errno != EAGAIN) { perror("gen: sendmmsg"); return 1; }
      failed += n;
    } else {
      sent += (uint64_t)r;
      failed += n - (unsigned)r;
    }
  }
  double elapsed = now() - start;
  printf("{\"sent\":%llu,\"failed\":%llu,\"seconds\":%.3f,\"pps\":%.0f}\n", (unsigned long long)sent,
         (unsigned long long)failed, elapsed, sent / elapsed);
  return 0;
}
