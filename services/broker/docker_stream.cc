#include "services/broker/docker_stream.h"

namespace clawdie::broker {

constexpr size_t kHeaderBytes = 8;

absl::Status StreamDemuxer::ParseHeader() {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(header_[i]); };
  if (byte(1) != 0 || byte(2) != 0 || byte(3) != 0 || byte(0) > 2) {
    return absl::DataLossError("parse docker attach stream: bad frame header, stream byte " +
                               std::to_string(byte(0)));
  }
  uint32_t length = (uint32_t{byte(4)} << 24) | (uint32_t{byte(5)} << 16) |
                    (uint32_t{byte(6)} << 8) | uint32_t{byte(7)};
  if (length > max_frame_) {
    return absl::DataLossError("parse docker attach stream: frame of " + std::to_string(length) +
                               " bytes exceeds the limit of " + std::to_string(max_frame_));
  }
  stream_ = byte(0) == 2 ? OutputChunk::Stream::kStderr : OutputChunk::Stream::kStdout;
  remaining_ = length;
  header_.clear();
  return absl::OkStatus();
}

absl::Status StreamDemuxer::Feed(std::string_view data, std::vector<OutputChunk>* out) {
  while (!data.empty()) {
    if (remaining_ == 0) {
      size_t take = std::min(kHeaderBytes - header_.size(), data.size());
      header_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (header_.size() < kHeaderBytes) break;
      if (auto status = ParseHeader(); !status.ok()) return status;
      continue;
    }
    size_t take = std::min<size_t>(remaining_, data.size());
    out->push_back(OutputChunk{stream_, std::string(data.substr(0, take))});
    data.remove_prefix(take);
    remaining_ -= static_cast<uint32_t>(take);
  }
  return absl::OkStatus();
}

std::string EncodeFrame(uint8_t stream, std::string_view payload) {
  uint32_t length = static_cast<uint32_t>(payload.size());
  std::string frame = {static_cast<char>(stream),
                       0,
                       0,
                       0,
                       static_cast<char>(length >> 24),
                       static_cast<char>(length >> 16),
                       static_cast<char>(length >> 8),
                       static_cast<char>(length)};
  frame.append(payload);
  return frame;
}

}  // namespace clawdie::broker
