// `clawctl doctor`: checks the configuration, the sockets and the services'
// health, the sandbox backend (Docker reachability and API version, bwrap or
// jail availability), the model key's presence, the Telegram token (getMe) and
// the time zone, and prints a fix for each problem. It looks from where it
// runs: on a split deployment run it on each host.
#include <curl/curl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <ostream>

#include "clawdie/v1/broker.grpc.pb.h"
#include "services/clawctl/commands.h"
#include "services/clawctl/doctor_checks.h"
#include "services/clawctl/health_client.h"

namespace clawdie::clawctl {
namespace {

constexpr long kHttpTimeoutSeconds = 10;

struct HttpAnswer {
  long code = 0;
  std::string body;
};

struct HttpTarget {
  std::string url;
  std::string unix_socket;
  std::string cert_dir;  // ca.pem, cert.pem, key.pem
};

size_t AppendBody(char* data, size_t size, size_t count, void* body) {
  static_cast<std::string*>(body)->append(data, size * count);
  return size * count;
}

// GET `target`. The error names `what`, never the URL (a Telegram URL holds the token).
absl::StatusOr<HttpAnswer> HttpGet(const HttpTarget& target, const std::string& what) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return absl::InternalError("GET " + what + ": curl_easy_init failed");
  HttpAnswer answer;
  curl_easy_setopt(curl.get(), CURLOPT_URL, target.url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, kHttpTimeoutSeconds);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &answer.body);
  if (!target.unix_socket.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_UNIX_SOCKET_PATH, target.unix_socket.c_str());
  }
  std::string ca = target.cert_dir + "/ca.pem", cert = target.cert_dir + "/cert.pem",
              key = target.cert_dir + "/key.pem";
  if (!target.cert_dir.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_CAINFO, ca.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_SSLCERT, cert.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_SSLKEY, key.c_str());
  }
  CURLcode result = curl_easy_perform(curl.get());
  if (result != CURLE_OK) {
    return absl::UnavailableError("GET " + what + ": " + curl_easy_strerror(result));
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &answer.code);
  return answer;
}

Finding CheckSocket(Session* session, const std::string& service) {
  std::string address = session->Address(service);
  if (address.rfind("unix:", 0) != 0) return {"socket " + service, Severity::kOk, address, ""};
  std::string path = address.substr(5);
  std::string dir = path.substr(0, path.rfind('/'));
  struct stat socket_stat {
  }, dir_stat{};
  bool exists = stat(path.c_str(), &socket_stat) == 0;
  unsigned dir_mode = stat(dir.c_str(), &dir_stat) == 0 ? dir_stat.st_mode & 07777 : 0;
  return CheckSocketPath(service, path, exists, exists && S_ISSOCK(socket_stat.st_mode), dir_mode);
}

Finding CheckServiceHealth(Session* session, const std::string& service) {
  std::string check = "health " + service;
  auto channel = session->Channel(service);
  absl::StatusOr<HealthState> state =
      channel.ok() ? CheckHealth(*channel, "", session->timeout()) : channel.status();
  if (!state.ok()) {
    std::string fix = state.status().code() == absl::StatusCode::kPermissionDenied
                          ? "add your user to the clawdie group"
                          : "start clawdie-" + service + " and read its log";
    return {check, Severity::kFail, std::string(state.status().message()), fix};
  }
  if (*state != HealthState::kServing) {
    return {check, Severity::kFail, HealthStateName(*state),
            "read the log of clawdie-" + service + ": a service it depends on may be down"};
  }
  return {check, Severity::kOk, "SERVING", ""};
}

// True when `program` is an executable in PATH.
bool InPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path == nullptr ? "/usr/bin:/bin" : path;
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    if (access((dirs.substr(start, end - start) + "/" + program).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

Finding CheckDocker(const Config& config) {
  std::string host = config.GetString("DOCKER_HOST");
  HttpTarget target;
  if (host.rfind("unix://", 0) == 0) {
    target = {"http://docker/version", host.substr(7), ""};
  } else if (host.rfind("tcp://", 0) == 0) {
    bool tls = !config.GetString("DOCKER_TLS_VERIFY").empty();
    target = {(tls ? "https://" : "http://") + host.substr(6) + "/version", "",
              tls ? config.GetString("DOCKER_CERT_PATH") : ""};
  } else {
    return {"docker", Severity::kFail, "DOCKER_HOST " + host + " is not unix:// or tcp://",
            "set DOCKER_HOST=unix:///var/run/docker.sock or tcp://HOST:2376"};
  }
  absl::StatusOr<HttpAnswer> answer = HttpGet(target, "docker " + host);
  if (!answer.ok()) {
    return {"docker", Severity::kFail, std::string(answer.status().message()),
            "start dockerd, or check DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH"};
  }
  return CheckDockerVersion(answer->code, answer->body);
}

Finding CheckSandbox(const Config& config) {
  std::string backend = config.GetString("CLAWDIE_SANDBOX");
  if (backend == "docker") return CheckDocker(config);
  if (backend == "bwrap") {
    if (InPath("bwrap")) return {"sandbox bwrap", Severity::kOk, "bwrap found in PATH", ""};
    return {"sandbox bwrap", Severity::kFail, "bwrap is not installed",
            "apt-get install bubblewrap"};
  }
  if (backend == "jail") {
    if (access("/usr/sbin/jail", X_OK) == 0) {
      return {"sandbox jail", Severity::kOk, "jail(8) available", ""};
    }
    return {"sandbox jail", Severity::kFail, "jail(8) not found; jails need FreeBSD",
            "use CLAWDIE_SANDBOX=bwrap or docker on this system"};
  }
  return {"sandbox " + backend, Severity::kWarn, "agents run without isolation",
          "use docker, jail or bwrap unless every user is trusted"};
}

Finding CheckTelegram(const Config& config) {
  std::string token = config.GetString("TELEGRAM_BOT_TOKEN");
  if (token.empty()) return {"telegram", Severity::kOk, "not configured", ""};
  HttpTarget target{config.GetString("TELEGRAM_API_BASE") + "/bot" + token + "/getMe", "", ""};
  absl::StatusOr<HttpAnswer> answer = HttpGet(target, "telegram getMe");
  if (!answer.ok()) {
    return {"telegram", Severity::kFail, std::string(answer.status().message()),
            "check the network and TELEGRAM_API_BASE"};
  }
  return CheckTelegramGetMe(answer->code, answer->body);
}

bool BrokerHasKey(Session* session) {
  auto stub = session->Stub<v1::Broker>("broker");
  if (!stub.ok()) return false;
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::InfoResponse info;
  return (*stub)->Info(&context, v1::InfoRequest(), &info).ok() && info.model_key_present();
}

Finding CheckConfigFile(Session* session) {
  std::string path = session->config_path();
  if (access(path.c_str(), F_OK) != 0) {
    return {"config file", Severity::kWarn, path + " does not exist; defaults in use",
            "copy deploy/clawdie.conf.sample there, or pass --config"};
  }
  if (access(path.c_str(), R_OK) != 0) {
    return {"config file", Severity::kWarn, path + " is not readable by you; checks use defaults",
            "run clawctl as a member of the clawdie group, or pass --config"};
  }
  return {"config file", Severity::kOk, path, ""};
}

std::vector<Finding> RunChecks(Session* session) {
  std::vector<Finding> findings{CheckConfigFile(session)};
  for (Finding& finding : CheckConfigValues(session->config())) findings.push_back(finding);
  findings.push_back(CheckTimeZone(session->config()));
  for (const std::string& service : ServiceNames()) {
    // A missing socket needs no second line saying the service cannot be reached.
    findings.push_back(CheckSocket(session, service));
    if (findings.back().severity != Severity::kFail) {
      findings.push_back(CheckServiceHealth(session, service));
    }
  }
  findings.push_back(CheckSandbox(session->config()));
  findings.push_back(CheckModelKey(session->config(), BrokerHasKey(session)));
  findings.push_back(CheckTelegram(session->config()));
  return findings;
}

absl::Status Doctor(Session* session) {
  std::vector<Finding> findings = RunChecks(session);
  int failed = 0;
  for (const Finding& finding : findings) failed += finding.severity == Severity::kFail;

  if (session->json()) {
    session->out() << FindingsJson(findings).dump(2) << "\n";
  } else {
    session->out() << FindingsTable(findings).Render();
    for (const Finding& finding : findings) {
      if (!finding.fix.empty())
        session->out() << "fix " << finding.check << ": " << finding.fix << "\n";
    }
  }
  if (failed == 0) return absl::OkStatus();
  return absl::FailedPreconditionError("doctor: " + std::to_string(failed) +
                                       (failed == 1 ? " problem" : " problems") + " found");
}

}  // namespace

void AddDoctorCommand(CLI::App* app, Action* action) {
  app->add_subcommand("doctor", "Check configuration, sockets, sandbox, keys; suggest fixes")
      ->callback([action] { *action = Doctor; });
}

}  // namespace clawdie::clawctl
