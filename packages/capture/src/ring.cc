#include "ring.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "netns_socket.h"

Mapping::~Mapping() { munmap(base_, length_); }

namespace {

bool SetupRing(int fd, const RingConfig& cfg, SysError* err) {
  int version = TPACKET_V3;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) {
    return Fail(err, "setsockopt", "PACKET_VERSION");
  }
  // V3 packs frames of any size into a block; the frame size only has to divide the block.
  tpacket_req3 req{};
  req.tp_block_size = cfg.block_size;
  req.tp_block_nr = cfg.block_count;
  req.tp_frame_size = TPACKET_ALIGN(TPACKET3_HDRLEN + cfg.snap_len);
  req.tp_frame_nr = (cfg.block_size / req.tp_frame_size) * cfg.block_count;
  req.tp_retire_blk_tov = cfg.block_timeout_ms;
  if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) {
    return Fail(err, "setsockopt", "PACKET_RX_RING");
  }
  // V3 truncates frames only at the block size, so the snap length is a one-instruction classic BPF
  // program: "accept at most snap_len bytes". tp_len still reports the original length.
  sock_filter accept_snap{BPF_RET | BPF_K, 0, 0, cfg.snap_len};
  sock_fprog prog{1, &accept_snap};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
    return Fail(err, "setsockopt", "SO_ATTACH_FILTER");
  }
  return true;
}

bool Bind(int fd, int ifindex, uint16_t protocol, SysError* err) {
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(protocol);
  addr.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Fail(err, "bind", ifindex ? "ifindex " + std::to_string(ifindex) : std::string());
  }
  return true;
}

}  // namespace

std::unique_ptr<Ring> Ring::Open(const RingConfig& cfg, SysError* err) {
  int fd = OpenPacketSocket(cfg.netns, err);
  if (fd < 0) return nullptr;
  if (!SetupRing(fd, cfg, err)) {
    close(fd);
    return nullptr;
  }
  size_t length = size_t{cfg.block_size} * cfg.block_count;
  void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    Fail(err, "mmap", "PACKET_RX_RING");
    close(fd);
    return nullptr;
  }
  auto mapping = std::make_shared<Mapping>(static_cast<uint8_t*>(base), length);
  // Binding last: frames start flowing only once the ring and the snap filter are in place.
  if (!Bind(fd, cfg.ifindex, ETH_P_ALL, err)) {
    close(fd);
    return nullptr;
  }
  return std::unique_ptr<Ring>(new Ring(fd, std::move(mapping), cfg.block_size, cfg.block_count));
}

Ring::~Ring() { Shutdown(); }

uint8_t* Ring::Ready() const {
  tpacket_block_desc* block = Block(current_);
  // Acquire pairs with the kernel's barrier before it flips the status: frames are complete.
  uint32_t status = __atomic_load_n(&block->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
  return (status & TP_STATUS_USER) ? reinterpret_cast<uint8_t*>(block) : nullptr;
}

int Ring::Wait(int timeout_ms, SysError* err) const {
  pollfd p{fd_, POLLIN | POLLERR, 0};
  int n = poll(&p, 1, timeout_ms);
  if (n < 0 && errno != EINTR) {
    Fail(err, "poll");
    return -1;
  }
  return n > 0 ? 1 : 0;
}

void Ring::Release() {
  // Release orders every read of the block's frames before the kernel may overwrite them.
  __atomic_store_n(&Block(current_)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  current_ = (current_ + 1) % block_count_;
}

uint32_t Ring::FillIndex(const uint8_t* block, uint32_t* out, uint32_t max_frames) const {
  const auto* desc = reinterpret_cast<const tpacket_block_desc*>(block);
  uint32_t total = desc->hdr.bh1.num_pkts;
  uint32_t offset = desc->hdr.bh1.offset_to_first_pkt;
  uint32_t n = 0;
  // The kernel writes these headers, but a bad offset would make JS read past the block, so each
  // frame is checked to lie inside it; the loop is bounded by the block's own frame count.
  while (n < total && n < max_frames && offset <= block_size_ - TPACKET3_HDRLEN) {
    const auto* h = reinterpret_cast<const tpacket3_hdr*>(block + offset);
    const auto* ll = reinterpret_cast<const sockaddr_ll*>(block + offset + TPACKET_ALIGN(sizeof(tpacket3_hdr)));
    uint32_t start = offset + h->tp_mac;
    if (start > block_size_ || h->tp_snaplen > block_size_ - start) break;
    uint32_t* w = out + size_t{n} * kFrameWords;
    w[kOffset] = start;
    w[kCapLen] = h->tp_snaplen;
    w[kWireLen] = h->tp_len;
    w[kIfindex] = static_cast<uint32_t>(ll->sll_ifindex);
    w[kSec] = h->tp_sec;
    w[kNsec] = h->tp_nsec;
    uint32_t vlan = 0;
    if (h->tp_status & TP_STATUS_VLAN_VALID) {
      uint32_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : ETH_P_8021Q;
      vlan = (h->hv1.tp_vlan_tci & 0xffff) | (tpid << 16);
    }
    w[kVlan] = vlan;
    w[kPktType] = ll->sll_pkttype;
    n++;
    offset += h->tp_next_offset;
    if (h->tp_next_offset == 0) break;
  }
  return n;
}

bool Ring::AddStats(RingStats* totals, SysError* err) const {
  tpacket_stats_v3 st{};
  socklen_t len = sizeof st;
  if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) {
    return Fail(err, "getsockopt", "PACKET_STATISTICS");
  }
  totals->packets += st.tp_packets;
  totals->drops += st.tp_drops;
  totals->freeze_q += st.tp_freeze_q_cnt;
  return true;
}

void Ring::Shutdown() {
  if (fd_ < 0) return;
  // The mapping holds a reference to the socket, so close() alone would leave it receiving into the
  // ring until the last view is collected; rebinding to protocol 0 unhooks it from delivery now.
  SysError ignored;
  Bind(fd_, 0, 0, &ignored);
  close(fd_);
  fd_ = -1;
}
