// The AF_PACKET socket and its TPACKET_V3 receive ring, free of any Node-API code.
#pragma once

#include <linux/if_packet.h>

#include <cstdint>
#include <memory>
#include <string>

#include "sys_error.h"

struct RingConfig {
  std::string netns;  // empty: the caller's namespace
  int ifindex = 0;    // 0: unbound, every interface of the namespace
  uint32_t snap_len = 0;
  uint32_t block_size = 0;
  uint32_t block_count = 0;
  uint32_t block_timeout_ms = 0;
};

// Cumulative PACKET_STATISTICS (the kernel zeroes its counters on every read).
struct RingStats {
  uint64_t packets = 0;  // frames the socket saw, dropped ones included (kernel semantics)
  uint64_t drops = 0;    // frames lost because no block was free
  uint64_t freeze_q = 0; // times the ring was found full and frozen
};

// The mmap'ed ring. Shared with every ArrayBuffer handed to JS so that the memory outlives the
// socket until the last view is gone, whatever order close() and garbage collection happen in.
class Mapping {
 public:
  Mapping(uint8_t* base, size_t length) : base_(base), length_(length) {}
  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  uint8_t* base() const { return base_; }

 private:
  uint8_t* base_;
  size_t length_;
};

// Words per frame in the index filled by Ring::FillIndex, and their positions.
enum FrameWord : uint32_t {
  kOffset = 0,   // byte offset of the link-layer header from the block start
  kCapLen = 1,   // bytes captured (<= snap length)
  kWireLen = 2,  // original frame length the kernel saw
  kIfindex = 3,  // interface the frame was seen on
  kSec = 4,      // timestamp, seconds
  kNsec = 5,     // timestamp, nanoseconds
  kVlan = 6,     // tci | tpid << 16 when the kernel stripped a VLAN tag, else 0
  kPktType = 7,  // sockaddr_ll.sll_pkttype (PACKET_HOST, PACKET_OUTGOING, ...)
  kFrameWords = 8,
};

class Ring {
 public:
  // Returns nullptr and fills *err when a system call fails.
  static std::unique_ptr<Ring> Open(const RingConfig& cfg, SysError* err);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  int fd() const { return fd_; }
  uint32_t block_size() const { return block_size_; }
  uint32_t block_count() const { return block_count_; }
  const std::shared_ptr<Mapping>& mapping() const { return mapping_; }
  // Upper bound on frames per block: every frame starts with a tpacket3_hdr.
  uint32_t max_frames() const { return block_size_ / sizeof(tpacket3_hdr) + 1; }

  // The current block when the kernel has retired it to user space, else nullptr.
  uint8_t* Ready() const;
  // Waits up to timeout_ms for the current block. 1 ready, 0 timeout or signal, -1 error.
  int Wait(int timeout_ms, SysError* err) const;
  // Hands the current block back to the kernel and moves to the next one.
  void Release();
  // Writes kFrameWords words per frame of a ready block into out; returns the frame count.
  uint32_t FillIndex(const uint8_t* block, uint32_t* out, uint32_t max_frames) const;
  // Adds the kernel counters since the last read to *totals.
  bool AddStats(RingStats* totals, SysError* err) const;
  // Stops delivery and closes the socket; the mapping lives on while views hold it.
  void Shutdown();

 private:
  Ring(int fd, std::shared_ptr<Mapping> mapping, uint32_t block_size, uint32_t block_count)
      : fd_(fd), mapping_(std::move(mapping)), block_size_(block_size), block_count_(block_count) {}
  tpacket_block_desc* Block(uint32_t i) const {
    return reinterpret_cast<tpacket_block_desc*>(mapping_->base() + size_t{i} * block_size_);
  }

  int fd_;
  std::shared_ptr<Mapping> mapping_;
  uint32_t block_size_;
  uint32_t block_count_;
  uint32_t current_ = 0;
};
