#include "tests/e2e/e2e_system.h"

#include <signal.h>
#include <sqlite3.h>

#include <fstream>
#include <thread>

#include "absl/time/clock.h"

namespace clawdie::e2e {
namespace {

constexpr char kBotToken[] = "8012345678:e2e-test-token";

std::string Bin(const std::string& relative) { return testing::BinaryPath(relative); }

}  // namespace

nlohmann::json TelegramFixtureUpdate(const std::string& case_name) {
  std::ifstream in(std::string(CLAWDIE_SHARED_FIXTURES) + "/telegram/updates.json");
  nlohmann::json cases = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  for (const auto& c : cases) {
    if (c.value("case", "") == case_name) return c["update"];
  }
  return nlohmann::json();
}

System::System(SystemOptions options) : options_(std::move(options)) {
  dir_ = testing::MakeTempDir("cwe");
}

System::~System() {
  // Stop the services before the test servers, gateway first.
  for (const char* name : {"gateway", "router", "broker", "store"}) {
    auto it = services_.find(name);
    if (it == services_.end()) continue;
    it->second.Signal(SIGTERM);
    it->second.Wait(absl::Seconds(10)).IgnoreError();
  }
  if (telegram_ != nullptr) telegram_->Stop();
  if (model_ != nullptr) model_->Stop();
}

const std::vector<std::string>& System::ServiceNames() {
  static const auto* names = new std::vector<std::string>{"store", "broker", "router", "gateway"};
  return *names;
}

std::string System::Socket(const std::string& name) const {
  return "unix:" + dir_ + "/run/" + name + ".sock";
}

absl::Status System::Start() {
  auto model = testing::ModelServer::Start("127.0.0.1:0", options_.model_script);
  if (!model.ok()) return model.status();
  model_ = std::move(*model);
  telegram_ = std::make_unique<testing::TelegramTestServer>(kBotToken, nlohmann::json());
  absl::Status status = telegram_->Start("127.0.0.1", 0);
  if (!status.ok()) return status;

  std::map<std::string, std::string> config = {
      {"ASSISTANT_NAME", "Andy"},
      {"TZ", "UTC"},
      {"LOG_LEVEL", "info"},
      {"CLAWDIE_DATA_DIR", dir_ + "/data"},
      {"CLAWDIE_RUN_DIR", dir_ + "/run"},
      {"CLAWDIE_SANDBOX", options_.sandbox},
      {"CLAWDIE_AGENT_PATH", Bin("container/clawdie-agent")},
      {"CLAWDIE_AGENT_IMAGE", "clawdie-agent:e2e"},
      {"CLAWDIE_MODEL_PROVIDER", "anthropic"},
      {"CLAWDIE_MODEL_BASE_URL", model_->base_url()},
      {"ANTHROPIC_API_KEY", "sk-e2e-test-key"},
      {"TELEGRAM_BOT_TOKEN", kBotToken},
      {"TELEGRAM_API_BASE", telegram_->base_url()},
      {"CLAWDIE_SCHEDULER_POLL", "1s"},
      {"IDLE_TIMEOUT", "2s"},
  };
  for (const auto& [key, value] : options_.config) config[key] = value;
  std::ofstream conf(dir_ + "/clawdie.conf");
  for (const auto& [key, value] : config) conf << key << "=" << value << "\n";
  conf.close();

  for (const std::string& name : ServiceNames()) {
    status = StartService(name);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status System::StartService(const std::string& name) {
  std::vector<std::string> argv = {Bin("services/" + name + "/clawdie-" + name), "--config",
                                   dir_ + "/clawdie.conf"};
  auto child = testing::ChildProcess::Start(argv, dir_ + "/" + name + ".log");
  if (!child.ok()) return child.status();
  services_[name] = std::move(*child);
  if (!testing::WaitServing(Socket(name), "", absl::Seconds(30))) {
    return absl::UnavailableError("clawdie-" + name + " did not become SERVING:\n" + Log(name));
  }
  return absl::OkStatus();
}

absl::Status System::Restart(const std::string& service) {
  auto it = services_.find(service);
  if (it != services_.end()) {
    it->second.Signal(SIGKILL);
    it->second.Wait(absl::Seconds(10)).IgnoreError();
  }
  return StartService(service);
}

absl::Status System::RegisterGroup(const std::string& chat, const std::string& folder, bool main,
                                   bool requires_trigger) {
  v1::RegisterGroupRequest req;
  req.mutable_group()->set_chat_jid(chat);
  req.mutable_group()->set_name(folder);
  req.mutable_group()->set_folder(folder);
  req.mutable_group()->set_is_main(main);
  req.set_requires_trigger(requires_trigger);
  req.mutable_group()->set_trigger("@Andy");
  v1::Group group;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::Status status = Router()->RegisterGroup(&context, req, &group);
  if (!status.ok()) return absl::InternalError("RegisterGroup: " + status.error_message());
  return absl::OkStatus();
}

void System::DeliverUpdate(const nlohmann::json& update) { telegram_->EnqueueUpdate(update); }

std::vector<std::pair<int64_t, std::string>> System::SentMessages() const {
  std::vector<std::pair<int64_t, std::string>> sent;
  for (const auto& request : telegram_->Requests("sendMessage")) {
    const nlohmann::json& params = request.params;
    int64_t chat = params["chat_id"].is_string() ? std::stoll(params["chat_id"].get<std::string>())
                                                 : params["chat_id"].get<int64_t>();
    sent.emplace_back(chat, params.value("text", ""));
  }
  return sent;
}

bool System::WaitForSent(size_t n, absl::Duration timeout) const {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (SentMessages().size() >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::vector<std::map<std::string, std::string>> System::Query(const std::string& sql) const {
  std::vector<std::map<std::string, std::string>> rows;
  sqlite3* db = nullptr;
  std::string path = dir_ + "/data/clawdie.db";
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return rows;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::map<std::string, std::string> row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const unsigned char* text = sqlite3_column_text(stmt, c);
        row[sqlite3_column_name(stmt, c)] =
            text == nullptr ? "" : reinterpret_cast<const char*>(text);
      }
      rows.push_back(std::move(row));
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

std::unique_ptr<v1::Router::Stub> System::Router() const {
  return v1::Router::NewStub(testing::Connect(Socket("router")));
}

std::unique_ptr<v1::Store::Stub> System::Store() const {
  return v1::Store::NewStub(testing::Connect(Socket("store")));
}

pid_t System::Pid(const std::string& service) const {
  auto it = services_.find(service);
  return it == services_.end() ? -1 : it->second.pid();
}

std::string System::Log(const std::string& service) const {
  std::ifstream in(dir_ + "/" + service + ".log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace clawdie::e2e
