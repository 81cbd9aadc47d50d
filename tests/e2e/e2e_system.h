// The whole clawdie system for end-to-end tests: the real clawdie-store,
// clawdie-broker, clawdie-router and clawdie-gateway binaries on sockets in a
// temporary directory, with the test Telegram Bot API server and the test model
// server (in process, on loopback) standing in for the outside services.
//
// Thread-safety: one test thread drives a System.
#ifndef CLAWDIE_TESTS_E2E_E2E_SYSTEM_H_
#define CLAWDIE_TESTS_E2E_E2E_SYSTEM_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "clawdie/v1/router.grpc.pb.h"
#include "clawdie/v1/store.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/model_server/model_server.h"
#include "tests/telegram_server/telegram_test_server.h"
#include "tests/testing/testing.h"

namespace clawdie::e2e {

struct SystemOptions {
  // CLAWDIE_SANDBOX: process, bwrap or docker.
  std::string sandbox = "process";
  // The model's answers: the script, then this text for every further request.
  testing::ModelServerScript model_script;
  // Extra configuration lines.
  std::map<std::string, std::string> config;
};

class System {
 public:
  explicit System(SystemOptions options);
  ~System();

  // Starts the test servers and the four services; fails naming the service that did not
  // become SERVING (its log is in the status message).
  absl::Status Start();

  // The services in start order: "store", "broker", "router", "gateway".
  static const std::vector<std::string>& ServiceNames();
  // SIGKILLs one service and starts it again, waiting until it serves.
  absl::Status Restart(const std::string& service);

  // Registers a group through the router's admin API.
  absl::Status RegisterGroup(const std::string& chat, const std::string& folder, bool main,
                             bool requires_trigger);

  // Queues a Telegram update (as the fixtures write them) for the gateway's long poll.
  void DeliverUpdate(const nlohmann::json& update);
  // sendMessage requests the Telegram server received, as (chat_id, text).
  std::vector<std::pair<int64_t, std::string>> SentMessages() const;
  // Waits until at least `n` sendMessage requests arrived.
  bool WaitForSent(size_t n, absl::Duration timeout) const;

  // Rows of the store's database, read straight from the SQLite file (read-only).
  std::vector<std::map<std::string, std::string>> Query(const std::string& sql) const;

  std::unique_ptr<v1::Router::Stub> Router() const;
  std::unique_ptr<v1::Store::Stub> Store() const;
  const std::string& dir() const { return dir_; }
  // The process id of a running service ("store", "broker", "router", "gateway"), or -1.
  pid_t Pid(const std::string& service) const;
  std::string Log(const std::string& service) const;
  testing::ModelServer& model() { return *model_; }
  testing::TelegramTestServer& telegram() { return *telegram_; }

 private:
  absl::Status StartService(const std::string& name);
  std::string Socket(const std::string& name) const;

  SystemOptions options_;
  std::string dir_;
  std::unique_ptr<testing::ModelServer> model_;
  std::unique_ptr<testing::TelegramTestServer> telegram_;
  std::map<std::string, testing::ChildProcess> services_;
};

// The update of one case of shared/fixtures/telegram/updates.json.
nlohmann::json TelegramFixtureUpdate(const std::string& case_name);

}  // namespace clawdie::e2e

#endif  // CLAWDIE_TESTS_E2E_E2E_SYSTEM_H_
