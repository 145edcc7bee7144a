#include "poller.h"

#include <bpf/libbpf.h>
#include <linux/types.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common.h"
#include "errors.h"

namespace vg {
namespace {

constexpr size_t kRingRecordHeader = 8;  // BPF_RINGBUF_HDR_SZ: length and page offset
size_t Align8(size_t n) { return (n + 7) & ~static_cast<size_t>(7); }

}  // namespace

void Poller::Open(int ring_map_fd, uint32_t ring_size_bytes) {
  if (ring_ != nullptr) throw Failure{Code::InvalidState, "open", 0, "ring buffer already open", ""};
  size_ = ring_size_bytes;
  page_size_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  ring_ = ring_buffer__new(ring_map_fd, OnSample, this, nullptr);
  if (ring_ == nullptr) {
    int err = errno;
    throw SystemFailure(Code::RingbufFailed, "ringbuf", err, "ring_buffer__new(vg_events)");
  }
  // libbpf 1.1 has no ring__avail_data_size: map the consumer and producer pages read-only to
  // report the fill level. Page 0 is the consumer's, page 1 the producer's.
  consumer_page_ = mmap(nullptr, page_size_, PROT_READ, MAP_SHARED, ring_map_fd, 0);
  producer_page_ = consumer_page_ == MAP_FAILED
                       ? MAP_FAILED
                       : mmap(nullptr, page_size_, PROT_READ, MAP_SHARED, ring_map_fd, page_size_);
  if (consumer_page_ == MAP_FAILED || producer_page_ == MAP_FAILED) {
    int err = errno;
    Free();
    throw SystemFailure(Code::RingbufFailed, "ringbuf", err, "mapping the vg_events positions");
  }
  consumer_pos_ = static_cast<const volatile uint64_t*>(consumer_page_);
  producer_pos_ = static_cast<const volatile uint64_t*>(producer_page_);
}

void Poller::Start(uv_loop_t* loop, BatchSink* sink, uint32_t max_records, uint32_t max_bytes) {
  if (ring_ == nullptr) throw Failure{Code::InvalidState, "start", 0, "the sensor is not open", ""};
  if (handle_ != nullptr) throw Failure{Code::InvalidState, "start", 0, "already started", ""};
  sink_ = sink;
  max_records_ = max_records;
  max_bytes_ = max_bytes;
  batch_.assign(max_bytes, 0);
  handle_ = new uv_poll_t;
  handle_->data = this;
  int err = uv_poll_init(loop, handle_, ring_buffer__epoll_fd(ring_));
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
  if (ring_ == nullptr || sink_ == nullptr)
    throw Failure{Code::InvalidState, "drain", 0, "the sensor is not started", ""};
  if (consuming_) throw Failure{Code::InvalidState, "drain", 0, "already consuming", ""};
  consuming_ = true;
  stop_ = false;
  round_records_ = 0;
  round_bytes_ = 0;
  batch_length_ = 0;
  batch_count_ = 0;
  int err = ring_buffer__consume(ring_);
  if (!stop_ && batch_count_ > 0) Flush();
  consuming_ = false;
  uint64_t records = round_records_;
  if (close_pending_) {
    Free();
  } else if (err < 0 && !stop_) {
    throw SystemFailure(Code::RingbufFailed, "drain", -err, "ring_buffer__consume");
  }
  return records;
}

int Poller::OnSample(void* ctx, void* data, size_t length) {
  Poller* self = static_cast<Poller*>(ctx);
  if (self->stop_) return -ECANCELED;
  self->round_bytes_ += Align8(length) + kRingRecordHeader;
  // The probe states the record's length in its header; a record whose header disagrees with the
  // ring's own length is skipped and counted, never handed on.
  uint16_t size = 0;
  if (length >= sizeof(vg_header)) std::memcpy(&size, static_cast<uint8_t*>(data) + 2, sizeof size);
  if (size < sizeof(vg_header) || size > length) {
    self->malformed_++;
  } else {
    size_t need = Align8(size);
    if (self->batch_count_ > 0 && (self->batch_count_ + 1 > self->max_records_ ||
                                   self->batch_length_ + need > self->max_bytes_)) {
      if (!self->Flush()) return -ECANCELED;
    }
    // A record larger than max_bytes travels alone.
    if (self->batch_length_ + need > self->batch_.size()) self->batch_.resize(self->batch_length_ + need);
    uint8_t* at = self->batch_.data() + self->batch_length_;
    std::memcpy(at, data, size);
    std::memset(at + size, 0, need - size);
    self->batch_length_ += need;
    self->batch_count_++;
    self->round_records_++;
  }
  // One ring's worth per call: a producer that never pauses must not hold the event loop.
  if (self->round_bytes_ >= self->size_) {
    if (self->batch_count_ > 0 && !self->Flush()) return -ECANCELED;
    self->stop_ = true;
    return -ECANCELED;
  }
  return 0;
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
  if (ring_ != nullptr) {
    ring_buffer__free(ring_);
    ring_ = nullptr;
  }
  if (consumer_page_ != nullptr && consumer_page_ != MAP_FAILED) munmap(consumer_page_, page_size_);
  if (producer_page_ != nullptr && producer_page_ != MAP_FAILED) munmap(producer_page_, page_size_);
  consumer_page_ = producer_page_ = nullptr;
  consumer_pos_ = producer_pos_ = nullptr;
  sink_ = nullptr;
  batch_.clear();
  batch_.shrink_to_fit();
  close_pending_ = false;
}

}  // namespace vg
