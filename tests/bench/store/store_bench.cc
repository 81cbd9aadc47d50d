// Prints, in one run on the same disk: acknowledged single appends per second
// through clawdie-store over gRPC (synchronous=FULL), raw SQLite inserts with
// one transaction each, their ratio, and the append rate of 8 concurrent
// clients (group commit). Usage: store_bench [appends] [directory].
#include <signal.h>
#include <sqlite3.h>

#include <cstdio>
#include <thread>

#include "absl/time/clock.h"
#include "clawdie/v1/store.grpc.pb.h"
#include "tests/testing/testing.h"

namespace {

using clawdie::testing::ChildProcess;

double RawSqliteInsertsPerSecond(const std::string& path, int count) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
               "CREATE TABLE m (seq INTEGER PRIMARY KEY AUTOINCREMENT, chat TEXT, pid TEXT, "
               "text TEXT, UNIQUE (chat, pid));",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO m (chat, pid, text) VALUES ('tg:1', ?, 'benchmark text')", -1,
                     &insert, nullptr);
  absl::Time start = absl::Now();
  for (int i = 0; i < count; ++i) {
    std::string id = std::to_string(i);
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_bind_text(insert, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(insert);
    sqlite3_reset(insert);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return count / seconds;
}

bool Append(clawdie::v1::Store::Stub* stub, const std::string& chat, const std::string& id) {
  clawdie::v1::AppendMessageRequest req;
  req.mutable_message()->set_chat_jid(chat);
  req.mutable_message()->set_platform_message_id(id);
  req.mutable_message()->set_text("benchmark text");
  clawdie::v1::AppendMessageResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  return stub->AppendMessage(&context, req, &response).ok();
}

double GrpcAppendsPerSecond(const std::string& target, int clients, int count,
                            const std::string& tag) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  absl::Time start = absl::Now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto stub = clawdie::v1::Store::NewStub(clawdie::testing::Connect(target));
      for (int i = c; i < count; i += clients) {
        if (!Append(stub.get(), "tg:" + tag, std::to_string(i))) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (failures > 0) std::fprintf(stderr, "%d appends failed\n", failures.load());
  return count / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 1000;
  std::string dir = argc > 2 ? argv[2] : clawdie::testing::MakeTempDir("cwb");
  std::string target = "unix:" + dir + "/store.sock";

  auto store =
      ChildProcess::Start({clawdie::testing::BinaryPath("services/store/clawdie-store"), "--listen",
                           target, "--data-dir", dir + "/data", "--log-level", "warn"},
                          dir + "/store.log");
  if (!store.ok() || !clawdie::testing::WaitServing(target, "", absl::Seconds(10))) {
    std::fprintf(stderr, "store_bench: clawdie-store did not start; see %s/store.log\n",
                 dir.c_str());
    return 1;
  }

  // Warm up the connection and the database file.
  GrpcAppendsPerSecond(target, 1, 50, "warmup");

  double grpc_single = GrpcAppendsPerSecond(target, 1, count, "single");
  double raw = RawSqliteInsertsPerSecond(dir + "/raw.db", count);
  double grpc_concurrent = GrpcAppendsPerSecond(target, 8, count * 4, "concurrent");
  store->Signal(SIGTERM);
  store->Wait(absl::Seconds(10)).IgnoreError();

  std::printf("store benchmark (%d appends, synchronous=FULL, directory %s)\n", count, dir.c_str());
  std::printf("  raw SQLite inserts, 1 txn each:        %8.0f /s\n", raw);
  std::printf("  gRPC appends, 1 client, acknowledged:  %8.0f /s\n", grpc_single);
  std::printf("  ratio gRPC / raw:                      %8.2f   (target >= 0.75)\n",
              grpc_single / raw);
  std::printf("  gRPC appends, 8 concurrent clients:    %8.0f /s\n", grpc_concurrent);
  std::printf("  concurrent / single:                   %8.2f   (target >= 3.0)\n",
              grpc_concurrent / grpc_single);
  return 0;
}
