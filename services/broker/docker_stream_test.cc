#include "services/broker/docker_stream.h"

#include "gtest/gtest.h"

namespace clawdie::broker {
namespace {

using Stream = OutputChunk::Stream;

std::string Joined(const std::vector<OutputChunk>& chunks, Stream stream) {
  std::string text;
  for (const auto& chunk : chunks) {
    if (chunk.stream == stream) text += chunk.data;
  }
  return text;
}

TEST(StreamDemuxerTest, SplitsFramesFedOneByteAtATime) {
  std::string wire = EncodeFrame(1, "{\"type\":\"output\"}\n") + EncodeFrame(2, "warn\n") +
                     EncodeFrame(1, "") + EncodeFrame(1, "tail");
  StreamDemuxer demuxer;
  std::vector<OutputChunk> chunks;
  for (char c : wire) ASSERT_TRUE(demuxer.Feed(std::string_view(&c, 1), &chunks).ok());
  EXPECT_EQ(Joined(chunks, Stream::kStdout), "{\"type\":\"output\"}\ntail");
  EXPECT_EQ(Joined(chunks, Stream::kStderr), "warn\n");
  EXPECT_TRUE(demuxer.AtFrameBoundary());
}

TEST(StreamDemuxerTest, EmitsPartialPayloadsAsTheyArrive) {
  std::string frame = EncodeFrame(1, "abcdef");
  StreamDemuxer demuxer;
  std::vector<OutputChunk> chunks;
  ASSERT_TRUE(demuxer.Feed(frame.substr(0, 11), &chunks).ok());
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].data, "abc");
  EXPECT_FALSE(demuxer.AtFrameBoundary());
}

TEST(StreamDemuxerTest, RefusesOversizedFramesAndBadHeaders) {
  StreamDemuxer demuxer(1024);
  std::vector<OutputChunk> chunks;
  absl::Status big = demuxer.Feed(EncodeFrame(1, std::string(1025, 'x')), &chunks);
  EXPECT_EQ(big.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(big.message(),
            "parse docker attach stream: frame of 1025 bytes exceeds the limit of 1024");

  StreamDemuxer other;
  absl::Status bad = other.Feed(std::string("\x07\0\0\0\0\0\0\x01x", 9), &chunks);
  EXPECT_EQ(bad.message(), "parse docker attach stream: bad frame header, stream byte 7");
}

}  // namespace
}  // namespace clawdie::broker
