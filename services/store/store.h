// The clawdie store: every durable fact of the system in one SQLite file
// (chats, messages, groups, sessions, cursors, runs, tasks and their run log,
// the outbox). Each method mirrors one Store RPC and returns only after its
// transaction committed.
//
// Writes go through one writer thread that commits concurrent requests in one
// transaction (group commit: one fsync for many appends), each request inside
// its own savepoint so one refused request never affects another. Reads use a
// separate connection and see every committed write.
//
// Thread-safety: all methods are safe to call from many threads.
#ifndef CLAWDIE_SERVICES_STORE_STORE_H_
#define CLAWDIE_SERVICES_STORE_STORE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "clawdie/v1/store.pb.h"
#include "services/store/database.h"

namespace clawdie::store {

namespace v1 = ::clawdie::v1;

struct StoreOptions {
  // Directory of the database file (clawdie.db).
  std::string data_dir;
  // Longest message or outbox text accepted, in bytes.
  int64_t max_text_bytes = 64 * 1024;
  // Most requests committed in one transaction.
  int max_batch = 256;
};

class Store {
 public:
  // Opens or creates <data_dir>/clawdie.db and migrates it. Errors name the file.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();

  // Messages and chats. Validation errors are InvalidArgument naming the field.
  absl::StatusOr<v1::AppendMessageResponse> AppendMessage(const v1::AppendMessageRequest& req);
  // Each message as AppendMessage; their writes are queued together so they share commits.
  // InvalidArgument only for more than 1000 messages; per-message errors are in the results.
  absl::StatusOr<v1::AppendMessagesResponse> AppendMessages(const v1::AppendMessagesRequest& req);
  absl::StatusOr<v1::ListMessagesResponse> ListMessages(const v1::ListMessagesRequest& req);
  absl::StatusOr<v1::Chat> UpsertChat(const v1::UpsertChatRequest& req);
  absl::StatusOr<v1::ListChatsResponse> ListChats(const v1::ListChatsRequest& req);

  // Groups.
  absl::StatusOr<v1::Group> CreateGroup(const v1::CreateGroupRequest& req);
  absl::StatusOr<v1::Group> UpdateGroup(const v1::UpdateGroupRequest& req);
  absl::StatusOr<v1::Group> GetGroup(const v1::GetGroupRequest& req);
  absl::StatusOr<v1::ListGroupsResponse> ListGroups(const v1::ListGroupsRequest& req);
  absl::StatusOr<v1::DeleteGroupResponse> DeleteGroup(const v1::DeleteGroupRequest& req);

  // Sessions and cursors.
  absl::StatusOr<v1::Session> GetSession(const v1::GetSessionRequest& req);
  absl::StatusOr<v1::Session> SetSession(const v1::SetSessionRequest& req);
  absl::StatusOr<v1::Cursor> GetCursor(const v1::GetCursorRequest& req);
  absl::StatusOr<v1::Cursor> AdvanceCursor(const v1::AdvanceCursorRequest& req);

  // Runs.
  absl::StatusOr<v1::Run> BeginRun(const v1::BeginRunRequest& req);
  absl::StatusOr<v1::BeginMessageRunResponse> BeginMessageRun(
      const v1::BeginMessageRunRequest& req);
  absl::StatusOr<v1::Run> UpdateRun(const v1::UpdateRunRequest& req);
  // Each update as UpdateRun; their writes are queued together so they share commits.
  // InvalidArgument only for more than 1000 updates; per-update errors are in the results.
  absl::StatusOr<v1::UpdateRunsResponse> UpdateRuns(const v1::UpdateRunsRequest& req);
  absl::StatusOr<v1::ListRunsResponse> ListRuns(const v1::ListRunsRequest& req);

  // Tasks.
  absl::StatusOr<v1::Task> CreateTask(const v1::CreateTaskRequest& req);
  absl::StatusOr<v1::Task> GetTask(const v1::GetTaskRequest& req);
  absl::StatusOr<v1::ListTasksResponse> ListTasks(const v1::ListTasksRequest& req);
  absl::StatusOr<v1::Task> UpdateTask(const v1::UpdateTaskRequest& req);
  absl::StatusOr<v1::ClaimDueTasksResponse> ClaimDueTasks(const v1::ClaimDueTasksRequest& req);
  absl::StatusOr<v1::Task> CompleteTaskRun(const v1::CompleteTaskRunRequest& req);
  absl::StatusOr<v1::ListTaskRunsResponse> ListTaskRuns(const v1::ListTaskRunsRequest& req);

  // Outbox.
  absl::StatusOr<v1::OutboxEntry> EnqueueOutbox(const v1::EnqueueOutboxRequest& req);
  absl::StatusOr<v1::ListPendingOutboxResponse> ListPendingOutbox(
      const v1::ListPendingOutboxRequest& req);
  absl::StatusOr<v1::OutboxEntry> MarkDelivered(const v1::MarkDeliveredRequest& req);
  absl::StatusOr<v1::OutboxEntry> MarkFailed(const v1::MarkFailedRequest& req);
  absl::StatusOr<v1::OutboxEntry> RecordReceipt(const v1::RecordReceiptRequest& req);

  // Maintenance.
  absl::StatusOr<v1::BackupResponse> Backup(const v1::BackupRequest& req);

  // Runs `fn` on the writer connection inside the next batch transaction and returns its
  // status once the batch committed (or the commit error). `fn` runs inside a savepoint:
  // its changes are rolled back when it returns an error.
  absl::Status Write(const std::function<absl::Status(Database&)>& fn);

  // Write for several independent functions, queued at once so that one batch transaction
  // usually commits them all. Each runs in its own savepoint and gets its own status (in
  // order); each status is returned only once its transaction committed.
  std::vector<absl::Status> WriteEach(std::vector<std::function<absl::Status(Database&)>> fns);

  // Runs `fn` on the reader connection, serialised with other reads.
  absl::Status Read(const std::function<absl::Status(Database&)>& fn);

  const StoreOptions& options() const { return options_; }

 private:
  struct WriteJob;

  explicit Store(StoreOptions options) : options_(std::move(options)) {}
  void WriterLoop();
  void CommitBatch(std::deque<std::shared_ptr<WriteJob>>& batch);
  // Puts batch[keep..] back at the head of the queue, in order.
  void RequeueFront(std::deque<std::shared_ptr<WriteJob>>& batch, size_t keep);

  StoreOptions options_;
  std::unique_ptr<Database> writer_db_;
  std::unique_ptr<Database> reader_db_;
  std::mutex read_mu_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::shared_ptr<WriteJob>> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace clawdie::store

#endif  // CLAWDIE_SERVICES_STORE_STORE_H_
