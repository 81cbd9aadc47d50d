// The pieces of `clawctl status` that do not talk to anything: one line of
// detail per service from its own report, the table, the JSON document and the
// verdict (OK only when every service is SERVING).
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_CLAWCTL_STATUS_REPORT_H_
#define CLAWDIE_SERVICES_CLAWCTL_STATUS_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "clawdie/v1/broker.pb.h"
#include "clawdie/v1/gateway.pb.h"
#include "clawdie/v1/router.pb.h"
#include "nlohmann/json.hpp"
#include "services/clawctl/table.h"

namespace clawdie::clawctl {

// What status found out about one service.
struct ServiceHealth {
  std::string name;
  std::string address;
  // SERVING, NOT_SERVING, SERVICE_UNKNOWN, UNKNOWN or UNREACHABLE.
  std::string state;
  // Why it is UNREACHABLE.
  std::string error;
  // The service's own summary (backend, queue, channels), empty if none.
  std::string detail;
  // The version the service announced in its health answer, empty if unknown.
  std::string version;
};

// "sandbox docker 27.1 · model anthropic/claude-sonnet-4-5 (key present)".
std::string DescribeBroker(const v1::InfoResponse& info);

// "agents 1/5 · 2 groups waiting".
std::string DescribeQueue(const v1::QueueStateResponse& queue);

// "telegram connected @andy_bot · whatsapp off · local connected"; a channel that is enabled
// but not connected shows its last error.
std::string DescribeChannels(const v1::StatusResponse& status);

// SERVICE ADDRESS HEALTH DETAIL, with an unreachable service's error as its detail.
Table StatusTable(const std::vector<ServiceHealth>& services);

// {"version": ..., "ok": bool, "services": [{name, address, health, error, detail}]}.
nlohmann::json StatusJson(const std::string& version, const std::vector<ServiceHealth>& services);

// OK when every service is SERVING; otherwise Unavailable
// "status: router NOT_SERVING, gateway UNREACHABLE".
absl::Status StatusVerdict(const std::vector<ServiceHealth>& services);

}  // namespace clawdie::clawctl

#endif  // CLAWDIE_SERVICES_CLAWCTL_STATUS_REPORT_H_
