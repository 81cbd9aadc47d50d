// The Docker Engine's multiplexed attach stream (Tty off): each frame is an
// 8-byte header — stream type (0 stdin, 1 stdout, 2 stderr), three zero
// bytes, a big-endian 32-bit payload length — followed by the payload.
// StreamDemuxer splits a byte stream into stdout and stderr chunks, emitting
// payload bytes as soon as they arrive, and refuses frames above a bound.
//
// Thread-safety: a StreamDemuxer is used by one thread at a time.
#ifndef CLAWDIE_SERVICES_BROKER_DOCKER_STREAM_H_
#define CLAWDIE_SERVICES_BROKER_DOCKER_STREAM_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "services/broker/sandbox.h"

namespace clawdie::broker {

class StreamDemuxer {
 public:
  explicit StreamDemuxer(uint32_t max_frame_bytes = 1 << 20) : max_frame_(max_frame_bytes) {}

  // Consumes `data`, appending whole or partial frame payloads to `out`
  // (adjacent pieces of one stream are not merged). Returns DataLoss for a
  // malformed header or a frame longer than the bound; the stream is then
  // unusable.
  absl::Status Feed(std::string_view data, std::vector<OutputChunk>* out);

  // True when no frame is partially read.
  bool AtFrameBoundary() const { return header_.empty() && remaining_ == 0; }

 private:
  absl::Status ParseHeader();

  const uint32_t max_frame_;
  std::string header_;
  uint32_t remaining_ = 0;
  OutputChunk::Stream stream_ = OutputChunk::Stream::kStdout;
};

// Encodes one frame (used by tests and the benchmark's fake daemon).
std::string EncodeFrame(uint8_t stream, std::string_view payload);

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_DOCKER_STREAM_H_
