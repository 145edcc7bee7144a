// The ring-buffer poller: a consumer of vg_events of its own, a uv_poll on the map's fd, and batching
// of records into one contiguous buffer (each record at an 8-byte aligned offset) handed to a sink.
//
// Not libbpf's ring_buffer: that maps the data area twice so a record that wraps reads as one, and the
// kernel maps every page of both views at mmap, so an 8 MiB ring was 16 MB of the daemon's RSS. Here
// the data is mapped once and a wrapping record is copied in two pieces (records are copied into the
// batch anyway).
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <vector>

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

  // Maps the ring's consumer page (read-write), its producer page and data area (read-only, once).
  // Throws Failure.
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
  // One committed record of `length` bytes at ring position `pos` (after its header): copied into the
  // batch. Returns false to stop the consume (the sink failed or one ring's worth was taken).
  bool Take(uint64_t pos, uint32_t length);
  // Copies `length` bytes from ring position `pos` to `out`, in two pieces when they wrap.
  void CopyOut(uint64_t pos, uint8_t* out, size_t length) const;
  static void OnReadable(uv_poll_t* handle, int status, int events);
  bool Flush();
  void Free();

  int map_fd_ = -1;
  uv_poll_t* handle_ = nullptr;
  BatchSink* sink_ = nullptr;
  volatile uint64_t* consumer_pos_ = nullptr;
  const volatile uint64_t* producer_pos_ = nullptr;
  void* consumer_page_ = nullptr;
  void* producer_map_ = nullptr;  // the producer page, then the data area
  const uint8_t* data_ = nullptr;
  size_t page_size_ = 0;
  uint32_t size_ = 0;  // of the data area: a power of two

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
