#include "services/clawctl/status_report.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace clawdie::clawctl {
namespace {

constexpr char kSeparator[] = " · ";

std::string DescribeChannel(const v1::ChannelStatus& channel) {
  if (!channel.enabled()) return channel.name() + " off";
  std::string text = channel.name() + (channel.connected() ? " connected" : " disconnected");
  if (!channel.identity().empty()) absl::StrAppend(&text, " ", channel.identity());
  if (!channel.connected() && !channel.last_error().empty()) {
    absl::StrAppend(&text, " (", channel.last_error(), ")");
  }
  if (channel.queue_depth() > 0) absl::StrAppend(&text, ", ", channel.queue_depth(), " queued");
  return text;
}

}  // namespace

std::string DescribeBroker(const v1::InfoResponse& info) {
  std::string sandbox = "sandbox " + info.backend();
  if (!info.backend_version().empty()) absl::StrAppend(&sandbox, " ", info.backend_version());
  std::string model = "model " + info.model_provider() + "/" + info.model() +
                      (info.model_key_present() ? " (key present)" : " (no key)");
  return sandbox + kSeparator + model;
}

std::string DescribeQueue(const v1::QueueStateResponse& queue) {
  int waiting = 0;
  for (const v1::GroupQueueState& group : queue.groups()) {
    if (!group.active() && (group.pending_messages() || group.pending_tasks() > 0)) ++waiting;
  }
  std::string text = absl::StrCat("agents ", queue.active(), "/", queue.max_concurrent());
  if (waiting > 0) {
    absl::StrAppend(&text, kSeparator, waiting, waiting == 1 ? " group" : " groups", " waiting");
  }
  return text;
}

std::string DescribeChannels(const v1::StatusResponse& status) {
  std::vector<std::string> parts;
  for (const v1::ChannelStatus& channel : status.channels()) {
    parts.push_back(DescribeChannel(channel));
  }
  return parts.empty() ? "no channels" : absl::StrJoin(parts, kSeparator);
}

Table StatusTable(const std::vector<ServiceHealth>& services) {
  Table table({"SERVICE", "ADDRESS", "HEALTH", "VERSION", "DETAIL"});
  for (const ServiceHealth& service : services) {
    std::string detail = service.error.empty() ? service.detail : service.error;
    table.AddRow({service.name, service.address, service.state,
                  service.version.empty() ? "-" : service.version, detail});
  }
  return table;
}

nlohmann::json StatusJson(const std::string& version, const std::vector<ServiceHealth>& services) {
  nlohmann::json json;
  json["version"] = version;
  json["ok"] = StatusVerdict(services).ok();
  json["services"] = nlohmann::json::array();
  for (const ServiceHealth& service : services) {
    json["services"].push_back({{"name", service.name},
                                {"address", service.address},
                                {"health", service.state},
                                {"version", service.version},
                                {"error", service.error},
                                {"detail", service.detail}});
  }
  return json;
}

absl::Status StatusVerdict(const std::vector<ServiceHealth>& services) {
  std::vector<std::string> failing;
  for (const ServiceHealth& service : services) {
    if (service.state != "SERVING") failing.push_back(service.name + " " + service.state);
  }
  if (failing.empty()) return absl::OkStatus();
  return absl::UnavailableError("status: " + absl::StrJoin(failing, ", "));
}

}  // namespace clawdie::clawctl
