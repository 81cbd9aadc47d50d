// clawdie-store: serves the clawdie.v1.Store API over the SQLite database in
// its data directory. Flags and configuration: docs/configuration.md.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>

#include "CLI/CLI.hpp"
#include "common/grpc_server.h"
#include "common/lock_file.h"
#include "common/logging.h"
#include "common/service_main.h"
#include "common/status.h"
#include "services/store/store.h"
#include "services/store/store_service.h"

namespace {

int Fail(const std::string& what, const absl::Status& status) {
  clawdie::GetLogger("store")->error("{}: {}", what, status.message());
  std::fprintf(stderr, "clawdie-store: %s: %s\n", what.c_str(),
               std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // The database, its WAL, backups and logs hold every chat: readable by this user only.
  umask(0077);
  clawdie::BlockShutdownSignals();
  CLI::App app{"clawdie-store: the clawdie database service"};
  clawdie::ServiceFlags flags;
  std::string data_dir;
  clawdie::AddServiceFlags(&app, &flags, /*has_listen=*/true);
  app.add_option("--data-dir", data_dir, "Directory of clawdie.db (CLAWDIE_DATA_DIR)");
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<clawdie::Config> config = clawdie::LoadServiceConfig("store", flags);
  if (!config.ok()) return Fail("configuration", config.status());
  if (!data_dir.empty()) config->Set("CLAWDIE_DATA_DIR", data_dir);
  absl::StatusOr<int64_t> max_text = config->GetInt("CLAWDIE_MAX_MESSAGE_BYTES", 64 * 1024);
  if (!max_text.ok()) return Fail("configuration", max_text.status());

  clawdie::store::StoreOptions options;
  options.data_dir = clawdie::DefaultDataDir(*config);
  options.max_text_bytes = *max_text;

  // One store per data directory, whatever socket it listens on.
  if (mkdir(options.data_dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return Fail("start", clawdie::ErrnoError(errno, "create data directory " + options.data_dir));
  }
  auto data_lock =
      clawdie::LockFile::Acquire(options.data_dir + "/clawdie-store.lock", "clawdie-store");
  if (!data_lock.ok()) return Fail("data directory " + options.data_dir, data_lock.status());

  absl::StatusOr<std::unique_ptr<clawdie::store::Store>> store =
      clawdie::store::Store::Open(options);
  if (!store.ok()) return Fail("open store", store.status());

  clawdie::store::StoreService service(store->get());
  clawdie::GrpcServer server(clawdie::ServerOptionsFor("store", *config, flags));
  server.AddService(&service, "clawdie.v1.Store");
  absl::Status started = server.Start();
  if (!started.ok()) return Fail("start", started);
  return clawdie::ServeUntilSignal(&server);
}
