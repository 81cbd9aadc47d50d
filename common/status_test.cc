#include "common/status.h"

#include <cerrno>

#include "gtest/gtest.h"

namespace clawdie {
namespace {

TEST(StatusTest, RoundTripsEveryCanonicalCode) {
  for (int code = 0; code <= 16; ++code) {
    absl::Status original(static_cast<absl::StatusCode>(code), code == 0 ? "" : "why");
    grpc::Status converted = ToGrpcStatus(original);
    EXPECT_EQ(static_cast<int>(converted.error_code()), code);
    EXPECT_EQ(FromGrpcStatus(converted), original);
  }
}

TEST(StatusTest, GrpcMessageSurvives) {
  grpc::Status status(grpc::StatusCode::INVALID_ARGUMENT, "message.chat_jid: empty");
  absl::Status converted = FromGrpcStatus(status);
  EXPECT_EQ(converted.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(converted.message(), "message.chat_jid: empty");
}

TEST(StatusTest, AnnotatePrefixesAndKeepsCode) {
  EXPECT_EQ(Annotate(absl::UnavailableError("connection refused"), "call store"),
            absl::UnavailableError("call store: connection refused"));
  EXPECT_TRUE(Annotate(absl::OkStatus(), "x").ok());
}

TEST(StatusTest, ErrnoErrorPicksCodeFromCause) {
  EXPECT_EQ(
      ErrnoError(ENOSPC, "write /var/db/clawdie/clawdie.db"),
      absl::ResourceExhaustedError("write /var/db/clawdie/clawdie.db: No space left on device"));
  EXPECT_EQ(ErrnoError(EACCES, "open x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoError(EIO, "read x").code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace clawdie
