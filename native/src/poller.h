// The ring-buffer poller: libbpf's ring_buffer on vg_events, a uv_poll on its epoll fd, and batching
// of records into one contiguous buffer (each record at an 8-byte aligned offset) handed to a sink.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <vector>

struct ring_buffer;

namespace vg {

class BatchSink {
 public:
  virtual ~BatchSink() = default;
  // One batch of `count` records in `length` bytes. Returns false to stop consuming (the sink
  // failed, or the sensor is closing).
  virtual bool OnBatch(const uint8_t* data, size_t length, uint32_t count) = 0;
  // The ring buffer's epoll fd is readable (status 0; the sink then calls Consume) or uv_poll
  // reported an error (a negative uv error code).
  virtual void OnReadable(int status) = 0;
};

class Poller {
 public:
  Poller() = default;
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  ~Poller() { Close(); }

  // ring_buffer__new on the map and a read-only mapping of its position pages. Throws Failure.
  void Open(int ring_map_fd, uint32_t ring_size_bytes);
  // Polls on `loop`, handing batches bounded by max_records and max_bytes to `sink`.
  void Start(uv_loop_t* loop, BatchSink* sink, uint32_t max_records, uint32_t max_bytes);
  bool Started() const { return handle_ != nullptr; }
  // Consumes what is in the ring buffer now (bounded by one ring's worth of bytes) and hands it to
  // the sink. Returns the records handed over. Throws Failure.
  uint64_t Consume();
  bool Consuming() const { return consuming_; }
  // Stops polling and frees the ring buffer; when called from the sink during Consume, stops the
  // consume and frees when it returns. Idempotent.
  void Close();

  uint64_t UsedBytes() const;  // producer - consumer position
  uint32_t SizeBytes() const { return size_; }
  uint64_t Malformed() const { return malformed_; }  // records skipped for an inconsistent size

 private:
  static int OnSample(void* ctx, void* data, size_t length);
  static void OnReadable(uv_poll_t* handle, int status, int events);
  bool Flush();
  void Free();

  struct ring_buffer* ring_ = nullptr;
  uv_poll_t* handle_ = nullptr;
  BatchSink* sink_ = nullptr;
  const volatile uint64_t* consumer_pos_ = nullptr;
  const volatile uint64_t* producer_pos_ = nullptr;
  void* consumer_page_ = nullptr;
  void* producer_page_ = nullptr;
  size_t page_size_ = 0;
  uint32_t size_ = 0;

  uint32_t max_records_ = 0;
  uint32_t max_bytes_ = 0;
  std::vector<uint8_t> batch_;
  size_t batch_length_ = 0;
  uint32_t batch_count_ = 0;
  uint64_t round_records_ = 0;  // records handed over in the current Consume
  uint64_t round_bytes_ = 0;    // ring bytes consumed in the current Consume
  uint64_t malformed_ = 0;
  bool consuming_ = false;
  bool stop_ = false;         // stop the current Consume
  bool close_pending_ = false;
};

}  // namespace vg
