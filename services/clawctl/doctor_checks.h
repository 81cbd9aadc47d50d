// The judgements of `clawctl doctor`, separated from the probing so they can
// be tested: each takes what was observed (config values, an HTTP answer, a
// file's mode) and returns a Finding with what is wrong and how to fix it.
// Secret values never appear in a Finding; only whether they are set.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_CLAWCTL_DOCTOR_CHECKS_H_
#define CLAWDIE_SERVICES_CLAWCTL_DOCTOR_CHECKS_H_

#include <string>
#include <vector>

#include "common/config.h"
#include "nlohmann/json.hpp"
#include "services/clawctl/table.h"

namespace clawdie::clawctl {

enum class Severity { kOk, kWarn, kFail };

struct Finding {
  std::string check;
  Severity severity = Severity::kOk;
  std::string detail;
  // What to do about it; empty when nothing needs doing.
  std::string fix;
};

// "ok", "warn" or "FAIL".
std::string SeverityName(Severity severity);

// Values that would stop a service: durations, numbers, enumerations, unknown keys (warn).
std::vector<Finding> CheckConfigValues(const Config& config);

// TZ is a zone in the system's database.
Finding CheckTimeZone(const Config& config);

// The model key for CLAWDIE_MODEL_PROVIDER is set (in this config or per the broker's Info
// when `broker_says_present`). Never includes the value.
Finding CheckModelKey(const Config& config, bool broker_says_present);

// Judges the answer of Docker's GET /version: HTTP 200 with ApiVersion and Version.
Finding CheckDockerVersion(long http_code, const std::string& body);

// Judges the answer of Telegram's getMe: HTTP 200 with ok=true and a username. A 401 means
// the token was revoked or mistyped.
Finding CheckTelegramGetMe(long http_code, const std::string& body);

// A Unix socket's directory mode and the socket itself: the directory must not be writable
// by others, and the socket must exist and be a socket.
Finding CheckSocketPath(const std::string& service, const std::string& path, bool exists,
                        bool is_socket, unsigned dir_mode);

// CHECK RESULT DETAIL.
Table FindingsTable(const std::vector<Finding>& findings);

// {"ok": bool, "checks": [{check, result, detail, fix}]}.
nlohmann::json FindingsJson(const std::vector<Finding>& findings);

}  // namespace clawdie::clawctl

#endif  // CLAWDIE_SERVICES_CLAWCTL_DOCTOR_CHECKS_H_
