#include "services/broker/run_spec.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace clawdie::broker {
namespace {

HostLayout Layout() { return HostLayout{"/srv/clawdie/groups", "/run/clawdie/sandboxes"}; }

RunRequest Request() {
  RunRequest request;
  request.run_id = "run-1";
  request.group_folder = "family";
  request.start_json = R"({"prompt":"hi","groupFolder":"main","isMain":true,"sessionId":"s1"})";
  return request;
}

TEST(RunSpecTest, FillsDefaultsAndSetsPrivilegedFieldsFromTheSpec) {
  RunRequest request = Request();
  request.limits.pids = 32;
  auto spec = ValidateRunSpec(request, Layout(), MountAllowlist(), DefaultLimits(), "claude-x");
  ASSERT_TRUE(spec.ok()) << spec.status();

  EXPECT_EQ(
      spec->start_line(),
      R"({"groupFolder":"family","isMain":false,"model":"claude-x","prompt":"hi","sessionId":"s1"})");
  EXPECT_EQ(spec->group_dir(), "/srv/clawdie/groups/family");
  EXPECT_EQ(spec->global_dir(), "/srv/clawdie/groups/global");
  EXPECT_EQ(spec->model_socket_path(), "/run/clawdie/sandboxes/run-1/sock/model.sock");
  EXPECT_EQ(spec->limits().pids, 32);
  EXPECT_EQ(spec->limits().stdout_bytes, 10 << 20);
  EXPECT_EQ(spec->limits().timeout, absl::Minutes(30));
  EXPECT_EQ(spec->network(), NetworkPolicy::kNone);
}

TEST(RunSpecTest, RequestModelOverridesTheStartObject) {
  RunRequest request = Request();
  request.start_json = R"({"prompt":"hi","model":"from-agent"})";
  request.model = "from-group";
  auto spec = ValidateRunSpec(request, Layout(), MountAllowlist(), DefaultLimits(), "default");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(nlohmann::json::parse(spec->start_line())["model"], "from-group");
  EXPECT_EQ(spec->model(), "from-group");
}

TEST(RunSpecTest, RejectsBadFields) {
  auto check = [](RunRequest request) {
    auto spec = ValidateRunSpec(request, Layout(), MountAllowlist(), DefaultLimits(), "m");
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(spec.status().message());
  };
  RunRequest request = Request();
  request.run_id = "../x";
  EXPECT_EQ(check(request),
            "validate run spec run_id \"../x\": expected [A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  request = Request();
  request.group_folder = "global";
  EXPECT_EQ(check(request),
            "validate run spec group_folder \"global\": expected "
            "[A-Za-z0-9][A-Za-z0-9_-]{0,63}, not global");
  request.group_folder = "a/b";
  EXPECT_EQ(check(request),
            "validate run spec group_folder \"a/b\": expected "
            "[A-Za-z0-9][A-Za-z0-9_-]{0,63}, not global");
  request = Request();
  request.start_json = "[\"prompt\"]";
  EXPECT_EQ(check(request), "validate run spec start_json: not a JSON object");
  request = Request();
  request.limits.memory_bytes = -1;
  EXPECT_EQ(check(request), "validate run spec limits: negative value");
}

TEST(RunSpecTest, RejectsASocketPathTooLongForUnixSockets) {
  HostLayout layout{"/g", "/" + std::string(90, 's')};
  auto spec = ValidateRunSpec(Request(), layout, MountAllowlist(), DefaultLimits(), "m");
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message(), "validate run spec model socket /" + std::string(90, 's') +
                                         "/run-1/sock/model.sock: longer than a Unix socket "
                                         "path may be");
}

TEST(RunSpecTest, RefusedMountsAreListedAndTheRunStillValidates) {
  RunRequest request = Request();
  request.extra_mounts = {{"/etc", "etc", false}};
  auto spec = ValidateRunSpec(request, Layout(), MountAllowlist(), DefaultLimits(), "m");
  ASSERT_TRUE(spec.ok());
  EXPECT_TRUE(spec->mounts().empty());
  EXPECT_EQ(spec->rejected_mounts(),
            std::vector<std::string>{"mount /etc: not under an allowed root"});
}

}  // namespace
}  // namespace clawdie::broker
