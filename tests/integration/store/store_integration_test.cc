#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/time/clock.h"
#include "clawdie/v1/store.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/testing/testing.h"

namespace clawdie {
namespace {

using testing::ChildProcess;

class StoreProcess {
 public:
  explicit StoreProcess(std::string dir)
      : dir_(std::move(dir)), socket_("unix:" + dir_ + "/store.sock") {}

  ChildProcess Start(const std::string& socket_name = "store.sock") {
    auto child =
        ChildProcess::Start({testing::BinaryPath("services/store/clawdie-store"), "--listen",
                             "unix:" + dir_ + "/" + socket_name, "--data-dir", dir_ + "/data"},
                            dir_ + "/store.log");
    EXPECT_TRUE(child.ok()) << child.status();
    return child.ok() ? std::move(*child) : ChildProcess();
  }

  std::unique_ptr<v1::Store::Stub> Stub() { return v1::Store::NewStub(testing::Connect(socket_)); }
  const std::string& target() const { return socket_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string socket_;
};

grpc::Status Append(v1::Store::Stub* stub, const std::string& chat, const std::string& id,
                    v1::AppendMessageResponse* response, absl::Duration timeout) {
  v1::AppendMessageRequest req;
  req.mutable_message()->set_chat_jid(chat);
  req.mutable_message()->set_platform_message_id(id);
  req.mutable_message()->set_text("message " + id);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  context.set_wait_for_ready(true);
  return stub->AppendMessage(&context, req, response);
}

// Every row of messages in seq order as (seq, platform id), read straight from a database file.
std::vector<std::pair<int64_t, std::string>> ReadMessages(const std::string& path,
                                                          std::string* integrity) {
  std::vector<std::pair<int64_t, std::string>> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return rows;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT seq, platform_id FROM messages ORDER BY rowid", -1, &stmt,
                     nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    rows.emplace_back(sqlite3_column_int64(stmt, 0),
                      reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
  }
  sqlite3_finalize(stmt);
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    *integrity = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

TEST(StoreIntegrationTest, ServesHealthReflectionAndStopsOnSigterm) {
  StoreProcess store(testing::MakeTempDir("cws"));
  ChildProcess child = store.Start();
  ASSERT_TRUE(testing::WaitServing(store.target(), "", absl::Seconds(10))) << child.Log();
  EXPECT_EQ(testing::CheckHealth(store.target(), "clawdie.v1.Store", absl::Seconds(2)), 1);

  auto services = testing::ListServices(store.target());
  ASSERT_TRUE(services.ok()) << services.status();
  std::set<std::string> names(services->begin(), services->end());
  EXPECT_TRUE(names.count("clawdie.v1.Store"));
  EXPECT_TRUE(names.count("grpc.health.v1.Health"));
  EXPECT_TRUE(names.count("grpc.reflection.v1alpha.ServerReflection"));

  // Describe, as grpcurl does: the file holding the service lists its methods.
  auto files = testing::DescribeSymbol(store.target(), "clawdie.v1.Store");
  ASSERT_TRUE(files.ok()) << files.status();
  std::set<std::string> methods;
  for (const auto& file : *files) {
    for (const auto& service : file.service()) {
      if (service.name() == "Store") {
        for (const auto& method : service.method()) methods.insert(method.name());
      }
    }
  }
  // Every RPC store.proto declares, as this test was compiled against it.
  const google::protobuf::ServiceDescriptor* declared =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          v1::Store::service_full_name());
  ASSERT_NE(declared, nullptr);
  EXPECT_EQ(methods.size(), static_cast<size_t>(declared->method_count()));
  EXPECT_TRUE(methods.count("AppendMessage"));
  EXPECT_TRUE(methods.count("RecordReceipt"));
  EXPECT_TRUE(methods.count("ClaimDueTasks"));
  EXPECT_TRUE(methods.count("Backup"));

  auto stub = store.Stub();
  v1::AppendMessageResponse appended;
  ASSERT_TRUE(Append(stub.get(), "local:me", "1", &appended, absl::Seconds(5)).ok());
  EXPECT_EQ(appended.seq(), 1);
  EXPECT_TRUE(appended.inserted());

  v1::AppendMessageRequest bad;
  bad.mutable_message()->set_chat_jid("local:me");
  grpc::ClientContext context;
  v1::AppendMessageResponse ignored;
  grpc::Status refused = stub->AppendMessage(&context, bad, &ignored);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(), "message.platform_message_id: must not be empty");

  child.Signal(SIGTERM);
  auto code = child.Wait(absl::Seconds(10));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << child.Log();
}

TEST(StoreIntegrationTest, SecondStoreOnSameDataDirRefusesWhileFirstServes) {
  StoreProcess store(testing::MakeTempDir("cws"));
  ChildProcess first = store.Start();
  ASSERT_TRUE(testing::WaitServing(store.target(), "", absl::Seconds(10))) << first.Log();

  // Same data directory, another socket: refused by the data directory's lock.
  ChildProcess other_socket = store.Start("other.sock");
  auto code = other_socket.Wait(absl::Seconds(10));
  ASSERT_TRUE(code.ok());
  EXPECT_NE(*code, 0);
  EXPECT_NE(first.Log().find("already running"), std::string::npos) << first.Log();

  // Same socket: refused too, and the live socket stays.
  ChildProcess same_socket = store.Start();
  code = same_socket.Wait(absl::Seconds(10));
  ASSERT_TRUE(code.ok());
  EXPECT_NE(*code, 0);
  EXPECT_EQ(testing::CheckHealth(store.target(), "", absl::Seconds(2)), 1);

  auto stub = store.Stub();
  v1::AppendMessageResponse appended;
  EXPECT_TRUE(Append(stub.get(), "local:me", "after", &appended, absl::Seconds(5)).ok());
}

TEST(StoreIntegrationTest, AcknowledgedAppendsSurviveRepeatedSigkill) {
  StoreProcess store(testing::MakeTempDir("cws"));
  ChildProcess child = store.Start();
  ASSERT_TRUE(testing::WaitServing(store.target(), "", absl::Seconds(10))) << child.Log();

  std::atomic<bool> stop{false};
  std::map<std::string, int64_t> acknowledged;  // platform id -> seq
  std::thread writer([&] {
    auto stub = store.Stub();
    for (int i = 0; !stop.load(); ++i) {
      std::string id = std::to_string(i);
      v1::AppendMessageResponse response;
      // Retry each message until acknowledged, as the router does: duplicates must be ignored.
      while (!stop.load()) {
        if (Append(stub.get(), "tg:-100", id, &response, absl::Seconds(2)).ok()) {
          acknowledged[id] = response.seq();
          break;
        }
      }
    }
  });

  for (int kill = 0; kill < 8; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    child.Signal(SIGKILL);
    ASSERT_TRUE(child.Wait(absl::Seconds(5)).ok());
    child = store.Start();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop.store(true);
  writer.join();
  child.Signal(SIGTERM);
  ASSERT_EQ(*child.Wait(absl::Seconds(10)), 0);

  std::string integrity;
  auto rows = ReadMessages(store.dir() + "/data/clawdie.db", &integrity);
  EXPECT_EQ(integrity, "ok");
  ASSERT_GT(acknowledged.size(), 50u) << "too few appends to mean anything";
  std::map<std::string, int> copies;
  for (size_t i = 0; i < rows.size(); ++i) {
    ++copies[rows[i].second];
    if (i > 0) {
      EXPECT_LT(rows[i - 1].first, rows[i].first);
    }
  }
  for (const auto& [id, seq] : acknowledged) {
    EXPECT_EQ(copies[id], 1) << "message " << id;
    auto it = std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.second == id; });
    ASSERT_NE(it, rows.end());
    EXPECT_EQ(it->first, seq) << "message " << id << " acknowledged with another seq";
  }
  std::printf("acknowledged %zu appends across 8 SIGKILLs; %zu rows stored\n", acknowledged.size(),
              rows.size());
}

TEST(StoreIntegrationTest, BackupUnderWriteLoadHoldsEverythingAcknowledgedBefore) {
  StoreProcess store(testing::MakeTempDir("cws"));
  ChildProcess child = store.Start();
  ASSERT_TRUE(testing::WaitServing(store.target(), "", absl::Seconds(10))) << child.Log();

  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      auto stub = store.Stub();
      for (int i = 0; !stop.load(); ++i) {
        std::string id = std::to_string(w) + "-" + std::to_string(i);
        v1::AppendMessageResponse response;
        if (Append(stub.get(), "wa:4670", id, &response, absl::Seconds(5)).ok()) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(id);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  std::vector<std::string> before;
  {
    std::lock_guard<std::mutex> lock(mu);
    before = acknowledged;
  }
  v1::BackupRequest req;
  req.set_path(store.dir() + "/backup.db");
  v1::BackupResponse response;
  grpc::ClientContext context;
  grpc::Status status = store.Stub()->Backup(&context, req, &response);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop.store(true);
  for (auto& t : writers) t.join();
  ASSERT_TRUE(status.ok()) << status.error_message();

  std::string integrity;
  auto rows = ReadMessages(req.path(), &integrity);
  EXPECT_EQ(integrity, "ok");
  std::set<std::string> in_backup;
  for (const auto& row : rows) in_backup.insert(row.second);
  ASSERT_GT(before.size(), 20u);
  for (const std::string& id : before) EXPECT_TRUE(in_backup.count(id)) << id;
  EXPECT_EQ(response.max_seq(), rows.back().first);
}

}  // namespace
}  // namespace clawdie
