#include "poller.h"

#include <linux/bpf.h>
#include <linux/types.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "common.h"
#include "errors.h"

namespace vg {
namespace {

size_t Align8(size_t n) { return (n + 7) & ~static_cast<size_t>(7); }

}  // namespace

void Poller::Open(int ring_map_fd, uint32_t ring_size_bytes) {
  if (data_ != nullptr) throw Failure{Code::InvalidState, "open", 0, "ring buffer already open", ""};
  if (ring_size_bytes == 0 || (ring_size_bytes & (ring_size_bytes - 1)) != 0)
    throw Failure{Code::RingbufFailed, "open", 0, "the ring buffer's size is not a power of two", ""};
  size_ = ring_size_bytes;
  map_fd_ = ring_map_fd;
  page_size_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  // Page 0 is the consumer's position (the only page user space may write), page 1 the producer's,
  // then the data area. The kernel would map the data twice over a mapping twice its size; one view
  // is all this consumer reads.
  consumer_page_ = mmap(nullptr, page_size_, PROT_READ | PROT_WRITE, MAP_SHARED, ring_map_fd, 0);
  producer_map_ = consumer_page_ == MAP_FAILED
                      ? MAP_FAILED
                      : mmap(nullptr, page_size_ + size_, PROT_READ, MAP_SHARED, ring_map_fd, page_size_);
  if (consumer_page_ == MAP_FAILED || producer_map_ == MAP_FAILED) {
    int err = errno;
    Free();
    throw SystemFailure(Code::RingbufFailed, "ringbuf", err, "mapping the vg_events ring buffer");
  }
  consumer_pos_ = static_cast<volatile uint64_t*>(consumer_page_);
  producer_pos_ = static_cast<const volatile uint64_t*>(producer_map_);
  data_ = static_cast<const uint8_t*>(producer_map_) + page_size_;
}

void Poller::Start(uv_loop_t* loop, BatchSink* sink, uint32_t max_records, uint32_t max_bytes) {
  if (data_ == nullptr) throw Failure{Code::InvalidState, "start", 0, "the sensor is not open", ""};
  if (handle_ != nullptr) throw Failure{Code::InvalidState, "start", 0, "already started", ""};
  sink_ = sink;
  max_records_ = max_records;
  max_bytes_ = max_bytes;
  batch_.assign(max_bytes, 0);
  handle_ = new uv_poll_t;
  handle_->data = this;
  // The map's fd polls readable while data waits in the ring.
  int err = uv_poll_init(loop, handle_, map_fd_);
  if (err == 0) err = uv_poll_start(handle_, UV_READABLE, OnReadable);
  if (err != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    handle_ = nullptr;
    sink_ = nullptr;
    throw Failure{Code::RingbufFailed, "start", -err,
                  std::string("polling the ring buffer: ") + uv_strerror(err), ""};
  }
}

void Poller::OnReadable(uv_poll_t* handle, int status, int /*events*/) {
  Poller* self = static_cast<Poller*>(handle->data);
  if (self == nullptr || self->sink_ == nullptr) return;
  self->sink_->OnReadable(status);
}

uint64_t Poller::Consume() {
  if (data_ == nullptr || sink_ == nullptr)
    throw Failure{Code::InvalidState, "drain", 0, "the sensor is not started", ""};
  if (consuming_) throw Failure{Code::InvalidState, "drain", 0, "already consuming", ""};
  consuming_ = true;
  stop_ = false;
  round_records_ = 0;
  round_bytes_ = 0;
  batch_length_ = 0;
  batch_count_ = 0;
  const uint64_t mask = size_ - 1;
  uint64_t consumer = __atomic_load_n(consumer_pos_, __ATOMIC_ACQUIRE);
  // The protocol of kernel/bpf/ringbuf.c: each record starts with an 8-byte header whose length word
  // has a busy bit while the producer writes it and a discard bit for a record given up; records
  // are 8-byte aligned, so a header never wraps. The consumer position is published after each one.
  bool more = true;
  while (more && !stop_) {
    more = false;
    uint64_t producer = __atomic_load_n(producer_pos_, __ATOMIC_ACQUIRE);
    while (consumer < producer && !stop_) {
      const uint32_t* header = reinterpret_cast<const uint32_t*>(data_ + (consumer & mask));
      uint32_t word = __atomic_load_n(header, __ATOMIC_ACQUIRE);
      if (word & BPF_RINGBUF_BUSY_BIT) break;  // not committed yet: its wakeup comes later
      more = true;
      uint32_t length = word & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
      uint64_t at = consumer + BPF_RINGBUF_HDR_SZ;
      consumer += Align8(length + BPF_RINGBUF_HDR_SZ);
      bool go_on = (word & BPF_RINGBUF_DISCARD_BIT) != 0 || Take(at, length);
      __atomic_store_n(consumer_pos_, consumer, __ATOMIC_RELEASE);
      if (!go_on) break;
    }
  }
  if (!stop_ && batch_count_ > 0) Flush();
  consuming_ = false;
  uint64_t records = round_records_;
  if (close_pending_) Free();
  return records;
}

void Poller::CopyOut(uint64_t pos, uint8_t* out, size_t length) const {
  size_t offset = static_cast<size_t>(pos & (size_ - 1));
  size_t first = std::min(length, static_cast<size_t>(size_) - offset);
  std::memcpy(out, data_ + offset, first);
  if (first < length) std::memcpy(out + first, data_, length - first);
}

bool Poller::Take(uint64_t pos, uint32_t length) {
  round_bytes_ += Align8(length) + BPF_RINGBUF_HDR_SZ;
  // The probe states the record's length in its header; a record whose header disagrees with the
  // ring's own length is skipped and counted, never handed on.
  uint16_t size = 0;
  if (length >= sizeof(vg_header) && length <= size_) {
    uint8_t head[4];
    CopyOut(pos, head, sizeof head);
    std::memcpy(&size, head + 2, sizeof size);
  }
  if (size < sizeof(vg_header) || size > length) {
    malformed_++;
  } else {
    size_t need = Align8(size);
    if (batch_count_ > 0 && (batch_count_ + 1 > max_records_ || batch_length_ + need > max_bytes_)) {
      if (!Flush()) return false;
    }
    // A record larger than max_bytes travels alone.
    if (batch_length_ + need > batch_.size()) batch_.resize(batch_length_ + need);
    uint8_t* at = batch_.data() + batch_length_;
    CopyOut(pos, at, size);
    std::memset(at + size, 0, need - size);
    batch_length_ += need;
    batch_count_++;
    round_records_++;
  }
  // One ring's worth per call: a producer that never pauses must not hold the event loop.
  if (round_bytes_ >= size_) {
    if (batch_count_ > 0 && !Flush()) return false;
    stop_ = true;
    return false;
  }
  return true;
}

bool Poller::Flush() {
  uint32_t count = batch_count_;
  size_t length = batch_length_;
  batch_count_ = 0;
  batch_length_ = 0;
  if (!sink_->OnBatch(batch_.data(), length, count) || close_pending_) {
    stop_ = true;
    return false;
  }
  return true;
}

uint64_t Poller::UsedBytes() const {
  if (consumer_pos_ == nullptr) return 0;
  uint64_t consumer = __atomic_load_n(consumer_pos_, __ATOMIC_ACQUIRE);
  uint64_t producer = __atomic_load_n(producer_pos_, __ATOMIC_ACQUIRE);
  return producer - consumer;
}

void Poller::Close() {
  if (consuming_) {
    close_pending_ = true;
    stop_ = true;
    if (handle_ != nullptr) uv_poll_stop(handle_);
    return;
  }
  Free();
}

void Poller::Free() {
  if (handle_ != nullptr) {
    uv_poll_stop(handle_);
    handle_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle_),
             [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    handle_ = nullptr;
  }
  if (consumer_page_ != nullptr && consumer_page_ != MAP_FAILED) munmap(consumer_page_, page_size_);
  if (producer_map_ != nullptr && producer_map_ != MAP_FAILED) munmap(producer_map_, page_size_ + size_);
  consumer_page_ = producer_map_ = nullptr;
  consumer_pos_ = nullptr;
  producer_pos_ = nullptr;
  data_ = nullptr;
  map_fd_ = -1;
  sink_ = nullptr;
  batch_.clear();
  batch_.shrink_to_fit();
  close_pending_ = false;
}

}  // namespace vg
