#include "services/clawctl/health_client.h"

#include "gtest/gtest.h"

namespace clawdie::clawctl {
namespace {

TEST(HealthWireTest, EncodesServiceAsField1AndEmptyForWholeServer) {
  EXPECT_EQ(EncodeHealthCheckRequest(""), "");
  EXPECT_EQ(EncodeHealthCheckRequest("clawdie.v1.Store"),
            std::string("\x0a\x10") + "clawdie.v1.Store");
}

TEST(HealthWireTest, DecodesStatusAndSkipsUnknownFields) {
  EXPECT_EQ(*DecodeHealthCheckResponse(std::string("\x08\x01", 2)), HealthState::kServing);
  EXPECT_EQ(*DecodeHealthCheckResponse(std::string("\x08\x02", 2)), HealthState::kNotServing);
  EXPECT_EQ(*DecodeHealthCheckResponse(""), HealthState::kUnknown);
  // Field 2 (string "ab") before the status.
  EXPECT_EQ(*DecodeHealthCheckResponse(std::string("\x12\x02"
                                                   "ab\x08\x03",
                                                   6)),
            HealthState::kServiceUnknown);
}

TEST(HealthWireTest, RefusesTruncatedMessage) {
  EXPECT_EQ(DecodeHealthCheckResponse(std::string("\x12\x05"
                                                  "ab",
                                                  4))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HealthStateNameTest, NamesEveryState) {
  EXPECT_EQ(HealthStateName(HealthState::kServing), "SERVING");
  EXPECT_EQ(HealthStateName(HealthState::kNotServing), "NOT_SERVING");
  EXPECT_EQ(HealthStateName(HealthState::kServiceUnknown), "SERVICE_UNKNOWN");
  EXPECT_EQ(HealthStateName(HealthState::kUnknown), "UNKNOWN");
}

}  // namespace
}  // namespace clawdie::clawctl
