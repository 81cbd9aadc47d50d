#include "services/broker/run_spec.h"

#include <algorithm>
#include <cctype>

#include "common/logging.h"
#include "nlohmann/json.hpp"

namespace clawdie::broker {
namespace {

constexpr int64_t kMiB = 1024 * 1024;
// sun_path is 104 bytes on FreeBSD (108 on Linux); stay portable.
constexpr size_t kMaxUnixSocketPath = 104;

bool IsNameChar(unsigned char c, const char* extra) {
  return std::isalnum(c) ||
         std::string_view(extra).find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsValidName(const std::string& name, const char* extra) {
  if (name.empty() || name.size() > 64) return false;
  if (!std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [extra](unsigned char c) { return IsNameChar(c, extra); });
}

// Fills zero fields of `limits` from `defaults`; rejects negative values.
absl::StatusOr<Limits> MergeLimits(const Limits& limits, const Limits& defaults) {
  if (limits.timeout < absl::ZeroDuration() || limits.idle_timeout < absl::ZeroDuration() ||
      limits.memory_bytes < 0 || limits.cpu_millis < 0 || limits.pids < 0 ||
      limits.stdout_bytes < 0 || limits.stderr_bytes < 0) {
    return absl::InvalidArgumentError("validate run spec limits: negative value");
  }
  Limits merged = limits;
  auto fill_duration = [](absl::Duration& value, absl::Duration fallback) {
    if (value == absl::ZeroDuration()) value = fallback;
  };
  auto fill = [](int64_t& value, int64_t fallback) {
    if (value == 0) value = fallback;
  };
  fill_duration(merged.timeout, defaults.timeout);
  fill_duration(merged.idle_timeout, defaults.idle_timeout);
  fill(merged.memory_bytes, defaults.memory_bytes);
  fill(merged.cpu_millis, defaults.cpu_millis);
  fill(merged.pids, defaults.pids);
  fill(merged.stdout_bytes, defaults.stdout_bytes);
  fill(merged.stderr_bytes, defaults.stderr_bytes);
  return merged;
}

// Parses the start object and overwrites the fields only the broker may set.
absl::StatusOr<std::string> BuildStartLine(const RunRequest& request, const std::string& model) {
  nlohmann::json start =
      nlohmann::json::parse(request.start_json, nullptr, /*allow_exceptions=*/false);
  if (start.is_discarded() || !start.is_object()) {
    return absl::InvalidArgumentError("validate run spec start_json: not a JSON object");
  }
  start["groupFolder"] = request.group_folder;
  start["isMain"] = request.is_main;
  if (!start.contains("model") || !start["model"].is_string() ||
      start["model"].get<std::string>().empty() || !request.model.empty()) {
    start["model"] = model;
  }
  return start.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Limits DefaultLimits() {
  Limits limits;
  limits.timeout = absl::Minutes(30);
  limits.idle_timeout = absl::Minutes(30);
  limits.memory_bytes = 1024 * kMiB;
  limits.cpu_millis = 1000;
  limits.pids = 256;
  limits.stdout_bytes = 10 * kMiB;
  limits.stderr_bytes = 10 * kMiB;
  return limits;
}

bool IsValidGroupFolder(const std::string& folder) {
  return folder != "global" && IsValidName(folder, "_-");
}

bool IsValidRunId(const std::string& run_id) { return IsValidName(run_id, "_.-"); }

absl::StatusOr<RunSpec> ValidateRunSpec(const RunRequest& request, const HostLayout& layout,
                                        const MountAllowlist& allowlist, const Limits& defaults,
                                        const std::string& default_model) {
  if (!IsValidRunId(request.run_id)) {
    return absl::InvalidArgumentError("validate run spec run_id \"" + request.run_id +
                                      "\": expected [A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  }
  if (!IsValidGroupFolder(request.group_folder)) {
    return absl::InvalidArgumentError("validate run spec group_folder \"" + request.group_folder +
                                      "\": expected [A-Za-z0-9][A-Za-z0-9_-]{0,63}, not global");
  }

  RunSpec spec;
  spec.run_id_ = request.run_id;
  spec.group_folder_ = request.group_folder;
  spec.is_main_ = request.is_main;
  spec.network_ = request.network;
  spec.model_ = request.model.empty() ? default_model : request.model;
  auto start_line = BuildStartLine(request, spec.model_);
  if (!start_line.ok()) return start_line.status();
  spec.start_line_ = *std::move(start_line);
  auto limits = MergeLimits(request.limits, defaults);
  if (!limits.ok()) return limits.status();
  spec.limits_ = *limits;

  spec.group_dir_ = layout.groups_dir + "/" + request.group_folder;
  spec.global_dir_ = layout.groups_dir + "/global";
  spec.run_state_dir_ = layout.state_dir + "/" + request.run_id;
  if (spec.model_socket_path().size() >= kMaxUnixSocketPath) {
    return absl::InvalidArgumentError("validate run spec model socket " + spec.model_socket_path() +
                                      ": longer than a Unix socket path may be");
  }

  for (const auto& mount : request.extra_mounts) {
    auto checked = allowlist.Check(mount, request.is_main);
    if (!checked.ok()) {
      GetLogger("broker")->warn("run {}: {}", request.run_id,
                                std::string(checked.status().message()));
      spec.rejected_mounts_.push_back(std::string(checked.status().message()));
      continue;
    }
    bool duplicate = std::any_of(spec.mounts_.begin(), spec.mounts_.end(), [&](const auto& m) {
      return m.sandbox_path == checked->sandbox_path;
    });
    if (duplicate) {
      spec.rejected_mounts_.push_back("mount " + mount.host_path + ": duplicate name " +
                                      mount.name);
      continue;
    }
    spec.mounts_.push_back(*std::move(checked));
  }
  return spec;
}

}  // namespace clawdie::broker
