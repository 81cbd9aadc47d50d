#include "services/store/store.h"

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>

#include "gtest/gtest.h"
#include "services/store/rows.h"

namespace clawdie::store {
namespace {

std::string TempDir() {
  char dir[] = "/tmp/clawdie_store_XXXXXX";
  return mkdtemp(dir);
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    StoreOptions options;
    options.data_dir = dir_;
    options.max_text_bytes = 1000;
    auto store = Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  v1::AppendMessageRequest Msg(const std::string& chat, const std::string& id,
                               const std::string& text) {
    v1::AppendMessageRequest req;
    req.mutable_message()->set_chat_jid(chat);
    req.mutable_message()->set_platform_message_id(id);
    req.mutable_message()->set_text(text);
    req.mutable_message()->set_sender_name("Mara");
    req.mutable_message()->mutable_time()->set_seconds(1767949200);
    return req;
  }

  v1::Group MakeGroup(const std::string& folder, const std::string& chat, bool main = false) {
    v1::CreateGroupRequest req;
    req.mutable_group()->set_folder(folder);
    req.mutable_group()->set_chat_jid(chat);
    req.mutable_group()->set_trigger("@Andy");
    req.mutable_group()->set_requires_trigger(true);
    req.mutable_group()->set_is_main(main);
    auto group = store_->CreateGroup(req);
    EXPECT_TRUE(group.ok()) << group.status();
    return group.ok() ? *group : v1::Group();
  }

  // A run of `folder` over messages 3 to 5.
  absl::StatusOr<v1::Run> BeginRun(const std::string& folder) {
    v1::BeginRunRequest begin;
    begin.set_group_folder(folder);
    begin.set_first_seq(3);
    begin.set_last_seq(5);
    return store_->BeginRun(begin);
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, AppendIsIdempotentOnChatAndPlatformId) {
  auto first = store_->AppendMessage(Msg("tg:-100", "880", "hello"));
  auto second = store_->AppendMessage(Msg("tg:-100", "881", "again"));
  auto duplicate = store_->AppendMessage(Msg("tg:-100", "880", "hello (redelivered)"));
  auto other_chat = store_->AppendMessage(Msg("tg:42", "880", "same id, other chat"));
  ASSERT_TRUE(first.ok() && second.ok() && duplicate.ok() && other_chat.ok());
  EXPECT_TRUE(first->inserted());
  EXPECT_EQ(second->seq(), first->seq() + 1);
  EXPECT_FALSE(duplicate->inserted());
  EXPECT_EQ(duplicate->seq(), first->seq());
  EXPECT_TRUE(other_chat->inserted());
  EXPECT_EQ(other_chat->seq(), first->seq() + 2);

  v1::ListMessagesRequest list;
  list.set_chat_jid("tg:-100");
  auto messages = store_->ListMessages(list);
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->messages_size(), 2);
  EXPECT_EQ(messages->messages(0).text(), "hello");
  EXPECT_EQ(messages->messages(0).sender_name(), "Mara");
  EXPECT_EQ(messages->messages(0).time().seconds(), 1767949200);
  EXPECT_EQ(messages->messages(1).text(), "again");
}

TEST_F(StoreTest, AppendRejectsBadInputNamingTheFieldAndWritesNothing) {
  auto empty_chat = store_->AppendMessage(Msg("", "1", "x"));
  EXPECT_EQ(empty_chat.status(), absl::InvalidArgumentError("message.chat_jid: must not be empty"));
  auto bad_chat = store_->AppendMessage(Msg("nocolon", "1", "x"));
  EXPECT_EQ(bad_chat.status().code(), absl::StatusCode::kInvalidArgument);
  auto empty_id = store_->AppendMessage(Msg("tg:1", "", "x"));
  EXPECT_EQ(empty_id.status(),
            absl::InvalidArgumentError("message.platform_message_id: must not be empty"));
  auto too_long = store_->AppendMessage(Msg("tg:1", "1", std::string(1001, 'a')));
  EXPECT_EQ(too_long.status(),
            absl::InvalidArgumentError("message.text: 1001 bytes, over the limit of 1000"));
  auto mismatched = Msg("tg:1", "1", "x");
  mismatched.mutable_chat()->set_jid("tg:2");
  EXPECT_EQ(store_->AppendMessage(mismatched).status().code(), absl::StatusCode::kInvalidArgument);

  auto chats = store_->ListChats(v1::ListChatsRequest());
  ASSERT_TRUE(chats.ok());
  EXPECT_EQ(chats->chats_size(), 0);
}

TEST_F(StoreTest, ListMessagesAfterSeqWithLimitAndKeepNewest) {
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(
        store_->AppendMessage(Msg("wa:4670", std::to_string(i), "m" + std::to_string(i))).ok());
  }
  v1::ListMessagesRequest req;
  req.set_chat_jid("wa:4670");
  req.set_after_seq(1);
  req.set_limit(2);
  auto oldest = store_->ListMessages(req);
  ASSERT_TRUE(oldest.ok());
  ASSERT_EQ(oldest->messages_size(), 2);
  EXPECT_EQ(oldest->messages(0).text(), "m2");
  EXPECT_EQ(oldest->omitted(), 2);

  req.set_keep_newest(true);
  auto newest = store_->ListMessages(req);
  ASSERT_EQ(newest->messages_size(), 2);
  EXPECT_EQ(newest->messages(0).text(), "m4");
  EXPECT_EQ(newest->messages(1).text(), "m5");
  EXPECT_EQ(newest->omitted(), 2);
}

TEST_F(StoreTest, ListMessagesWithRepliesListsTheChatsNewestOutboxEntries) {
  ASSERT_TRUE(store_->AppendMessage(Msg("tg:7", "1", "what is for dinner?")).ok());
  for (const char* text : {"first", "second", "third"}) {
    v1::EnqueueOutboxRequest enqueue;
    enqueue.mutable_entry()->set_chat_jid("tg:7");
    enqueue.mutable_entry()->set_text(text);
    ASSERT_TRUE(store_->EnqueueOutbox(enqueue).ok());
  }
  v1::EnqueueOutboxRequest elsewhere;
  elsewhere.mutable_entry()->set_chat_jid("tg:8");
  elsewhere.mutable_entry()->set_text("not this chat");
  auto other = store_->EnqueueOutbox(elsewhere);
  ASSERT_TRUE(other.ok());
  v1::MarkDeliveredRequest delivered;
  delivered.set_id(other->id() - 1);
  delivered.add_platform_message_ids("55");
  ASSERT_TRUE(store_->MarkDelivered(delivered).ok());

  v1::ListMessagesRequest req;
  req.set_chat_jid("tg:7");
  req.set_limit(2);
  req.set_keep_newest(true);
  auto plain = store_->ListMessages(req);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->replies_size(), 0);

  req.set_include_replies(true);
  auto listed = store_->ListMessages(req);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->messages_size(), 1);
  ASSERT_EQ(listed->replies_size(), 2);
  EXPECT_EQ(listed->replies(0).text(), "second");
  EXPECT_EQ(listed->replies(0).state(), v1::OUTBOX_STATE_PENDING);
  EXPECT_EQ(listed->replies(1).text(), "third");
  EXPECT_EQ(listed->replies(1).state(), v1::OUTBOX_STATE_DELIVERED);
  EXPECT_EQ(listed->replies(1).platform_message_ids(0), "55");
}

TEST_F(StoreTest, ChatMetadataUpsertKeepsKnownFields) {
  auto req = Msg("tg:-1001876543210", "1", "x");
  req.mutable_chat()->set_jid("tg:-1001876543210");
  req.mutable_chat()->set_name("Family");
  req.mutable_chat()->set_chat_type("supergroup");
  req.mutable_chat()->set_is_group(true);
  req.mutable_chat()->set_telegram_chat_id(-1001876543210);
  ASSERT_TRUE(store_->AppendMessage(req).ok());
  ASSERT_TRUE(store_->AppendMessage(Msg("tg:-1001876543210", "2", "y")).ok());

  auto chats = store_->ListChats(v1::ListChatsRequest());
  ASSERT_EQ(chats->chats_size(), 1);
  const v1::Chat& chat = chats->chats(0);
  EXPECT_EQ(chat.name(), "Family");
  EXPECT_EQ(chat.channel(), v1::CHANNEL_TELEGRAM);
  EXPECT_TRUE(chat.is_group());
  EXPECT_EQ(chat.telegram_chat_id(), -1001876543210);
  EXPECT_EQ(chat.last_message_time().seconds(), 1767949200);
}

TEST_F(StoreTest, GroupsValidateFolderAndAllowOneMain) {
  MakeGroup("main", "local:me", true);
  v1::CreateGroupRequest second_main;
  second_main.mutable_group()->set_folder("other");
  second_main.mutable_group()->set_chat_jid("tg:5");
  second_main.mutable_group()->set_is_main(true);
  EXPECT_EQ(store_->CreateGroup(second_main).status(),
            absl::FailedPreconditionError("group.is_main: group main is already the main group"));

  for (const std::string& bad :
       std::vector<std::string>{"", "-x", "global", "a/b", "../x", std::string(65, 'a')}) {
    v1::CreateGroupRequest req;
    req.mutable_group()->set_folder(bad);
    req.mutable_group()->set_chat_jid("tg:6");
    EXPECT_EQ(store_->CreateGroup(req).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }

  v1::CreateGroupRequest taken;
  taken.mutable_group()->set_folder("family");
  taken.mutable_group()->set_chat_jid("local:me");
  EXPECT_EQ(store_->CreateGroup(taken).status().code(), absl::StatusCode::kAlreadyExists);

  auto groups = store_->ListGroups(v1::ListGroupsRequest());
  ASSERT_EQ(groups->groups_size(), 1);
  EXPECT_EQ(groups->groups(0).folder(), "main");
  EXPECT_TRUE(groups->groups(0).is_main());
}

TEST_F(StoreTest, GroupGetUpdateDelete) {
  MakeGroup("family", "tg:-1001876543210");
  v1::GetGroupRequest by_chat;
  by_chat.set_chat_jid("tg:-1001876543210");
  auto found = store_->GetGroup(by_chat);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->folder(), "family");
  EXPECT_EQ(found->trigger(), "@Andy");

  v1::UpdateGroupRequest update;
  *update.mutable_group() = *found;
  update.mutable_group()->set_trigger("@Bob");
  update.mutable_group()->mutable_sandbox()->set_network(v1::NETWORK_POLICY_FULL);
  auto updated = store_->UpdateGroup(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->trigger(), "@Bob");
  EXPECT_EQ(updated->sandbox().network(), v1::NETWORK_POLICY_FULL);

  v1::DeleteGroupRequest del;
  del.set_folder("family");
  EXPECT_TRUE(store_->DeleteGroup(del).ok());
  EXPECT_EQ(store_->DeleteGroup(del).status().code(), absl::StatusCode::kNotFound);
  v1::GetGroupRequest by_folder;
  by_folder.set_folder("family");
  EXPECT_EQ(store_->GetGroup(by_folder).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, SessionsAndCursorsOnlyMoveForward) {
  v1::SetSessionRequest set;
  set.set_group_folder("family");
  set.set_session_id("s-1");
  ASSERT_TRUE(store_->SetSession(set).ok());
  v1::GetSessionRequest get;
  get.set_group_folder("family");
  EXPECT_EQ(store_->GetSession(get)->session_id(), "s-1");
  set.set_session_id("");
  ASSERT_TRUE(store_->SetSession(set).ok());
  EXPECT_EQ(store_->GetSession(get)->session_id(), "");

  v1::AdvanceCursorRequest advance;
  advance.set_group_folder("family");
  advance.set_seq(10);
  EXPECT_EQ(store_->AdvanceCursor(advance)->seq(), 10);
  advance.set_seq(4);
  EXPECT_EQ(store_->AdvanceCursor(advance)->seq(), 10);
  v1::GetCursorRequest cursor;
  cursor.set_group_folder("family");
  EXPECT_EQ(store_->GetCursor(cursor)->seq(), 10);
}

TEST_F(StoreTest, RunsBeginUpdateAndListUnfinished) {
  MakeGroup("family", "tg:-100");
  auto run = BeginRun("family");
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->state(), v1::RUN_STATE_PENDING);
  EXPECT_EQ(run->chat_jid(), "tg:-100");

  v1::BeginRunRequest unknown;
  unknown.set_group_folder("nobody");
  EXPECT_EQ(store_->BeginRun(unknown).status().code(), absl::StatusCode::kFailedPrecondition);

  v1::UpdateRunRequest update;
  update.set_run_id(run->id());
  update.set_state(v1::RUN_STATE_RUNNING);
  update.set_last_seq(7);
  update.set_add_attempt(true);
  auto running = store_->UpdateRun(update);
  EXPECT_EQ(running->last_seq(), 7);
  EXPECT_EQ(running->attempts(), 1);

  v1::ListRunsRequest unfinished;
  unfinished.set_unfinished_only(true);
  EXPECT_EQ(store_->ListRuns(unfinished)->runs_size(), 1);

  v1::UpdateRunRequest finish;
  finish.set_run_id(run->id());
  finish.set_state(v1::RUN_STATE_SUCCEEDED);
  finish.set_output_delivered(true);
  finish.set_session_id("s-9");
  auto done = store_->UpdateRun(finish);
  EXPECT_TRUE(done->output_delivered());
  EXPECT_EQ(done->session_id(), "s-9");
  EXPECT_TRUE(done->has_finished_at());
  EXPECT_EQ(store_->ListRuns(unfinished)->runs_size(), 0);

  v1::UpdateRunRequest bad_state;
  bad_state.set_run_id(run->id());
  bad_state.set_state(static_cast<v1::RunState>(42));
  EXPECT_EQ(store_->UpdateRun(bad_state).status(),
            absl::InvalidArgumentError("state: unknown value 42"));
}

v1::Task NewTask(const std::string& folder, int64_t next_run_seconds) {
  v1::Task t;
  t.set_group_folder(folder);
  t.set_prompt("Say good morning");
  t.set_kind(v1::TASK_KIND_CRON);
  t.set_expression("0 9 * * *");
  t.set_timezone("Europe/Stockholm");
  t.mutable_next_run()->set_seconds(next_run_seconds);
  return t;
}

TEST_F(StoreTest, ClaimDueTasksLeasesEachDueTimeOnce) {
  MakeGroup("family", "tg:-100");
  v1::CreateTaskRequest create;
  *create.mutable_task() = NewTask("family", 1000);
  auto task = store_->CreateTask(create);
  ASSERT_TRUE(task.ok()) << task.status();
  EXPECT_EQ(task->state(), v1::TASK_STATE_ACTIVE);
  EXPECT_EQ(task->context_mode(), v1::CONTEXT_MODE_GROUP);
  EXPECT_EQ(task->chat_jid(), "tg:-100");

  v1::ClaimDueTasksRequest claim;
  claim.set_owner("a");
  claim.mutable_now()->set_seconds(999);
  claim.mutable_lease()->set_seconds(60);
  EXPECT_EQ(store_->ClaimDueTasks(claim)->tasks_size(), 0);  // not due yet

  claim.mutable_now()->set_seconds(1000);
  auto claimed = store_->ClaimDueTasks(claim);
  ASSERT_EQ(claimed->tasks_size(), 1);
  EXPECT_EQ(claimed->tasks(0).next_run().seconds(), 1000);

  // Another scheduler gets nothing while the lease holds, and the due time after it expires.
  claim.set_owner("b");
  claim.mutable_now()->set_seconds(1030);
  EXPECT_EQ(store_->ClaimDueTasks(claim)->tasks_size(), 0);
  claim.mutable_now()->set_seconds(1061);
  ASSERT_EQ(store_->ClaimDueTasks(claim)->tasks_size(), 1);

  // The first owner lost its lease: its completion is refused.
  v1::CompleteTaskRunRequest complete;
  complete.set_task_id(task->id());
  complete.set_owner("a");
  complete.mutable_due_at()->set_seconds(1000);
  complete.mutable_next_run()->set_seconds(87400);
  EXPECT_EQ(store_->CompleteTaskRun(complete).status().code(),
            absl::StatusCode::kFailedPrecondition);

  complete.set_owner("b");
  complete.set_ok(true);
  complete.set_result("sent");
  complete.mutable_duration()->set_seconds(3);
  auto completed = store_->CompleteTaskRun(complete);
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->next_run().seconds(), 87400);
  EXPECT_EQ(completed->last_run().seconds(), 1000);
  EXPECT_EQ(completed->lease_owner(), "");

  v1::ListTaskRunsRequest runs;
  runs.set_task_id(task->id());
  auto log = store_->ListTaskRuns(runs);
  ASSERT_EQ(log->runs_size(), 1);
  EXPECT_EQ(log->runs(0).result(), "sent");
  EXPECT_EQ(log->runs(0).duration().seconds(), 3);
}

TEST_F(StoreTest, OnceTaskCompletesWithoutNextRunAndTaskValidation) {
  MakeGroup("family", "tg:-100");
  v1::CreateTaskRequest create;
  *create.mutable_task() = NewTask("family", 50);
  create.mutable_task()->set_kind(v1::TASK_KIND_ONCE);
  auto task = store_->CreateTask(create);
  ASSERT_TRUE(task.ok());

  v1::ClaimDueTasksRequest claim;
  claim.set_owner("a");
  claim.mutable_now()->set_seconds(60);
  claim.mutable_lease()->set_seconds(60);
  ASSERT_EQ(store_->ClaimDueTasks(claim)->tasks_size(), 1);
  v1::CompleteTaskRunRequest complete;
  complete.set_task_id(task->id());
  complete.set_owner("a");
  complete.mutable_due_at()->set_seconds(50);
  auto done = store_->CompleteTaskRun(complete);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), v1::TASK_STATE_COMPLETED);
  EXPECT_FALSE(done->has_next_run());
  claim.mutable_now()->set_seconds(10000);
  EXPECT_EQ(store_->ClaimDueTasks(claim)->tasks_size(), 0);

  v1::CreateTaskRequest bad = create;
  bad.mutable_task()->set_kind(static_cast<v1::TaskKind>(9));
  EXPECT_EQ(store_->CreateTask(bad).status(),
            absl::InvalidArgumentError("task.kind: unknown value 9"));
  bad = create;
  bad.mutable_task()->set_group_folder("ghost");
  EXPECT_EQ(store_->CreateTask(bad).status().code(), absl::StatusCode::kFailedPrecondition);
  bad = create;
  bad.mutable_task()->clear_next_run();
  EXPECT_EQ(store_->CreateTask(bad).status(),
            absl::InvalidArgumentError("task.next_run: must be set"));
}

TEST_F(StoreTest, UpdateTaskPausesAndResumes) {
  MakeGroup("family", "tg:-100");
  v1::CreateTaskRequest create;
  *create.mutable_task() = NewTask("family", 50);
  auto task = store_->CreateTask(create);
  v1::UpdateTaskRequest pause;
  pause.set_id(task->id());
  pause.set_state(v1::TASK_STATE_PAUSED);
  pause.set_paused_reason("group removed");
  auto paused = store_->UpdateTask(pause);
  EXPECT_EQ(paused->state(), v1::TASK_STATE_PAUSED);
  EXPECT_EQ(paused->paused_reason(), "group removed");

  v1::ClaimDueTasksRequest claim;
  claim.set_owner("a");
  claim.mutable_now()->set_seconds(100);
  claim.mutable_lease()->set_seconds(60);
  EXPECT_EQ(store_->ClaimDueTasks(claim)->tasks_size(), 0);

  v1::UpdateTaskRequest resume;
  resume.set_id(task->id());
  resume.set_state(v1::TASK_STATE_ACTIVE);
  EXPECT_EQ(store_->UpdateTask(resume)->paused_reason(), "");
  EXPECT_EQ(store_->ClaimDueTasks(claim)->tasks_size(), 1);

  v1::UpdateTaskRequest missing;
  missing.set_id(999);
  EXPECT_EQ(store_->UpdateTask(missing).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, OutboxDeliveredOnceAndFailuresRetryOrStop) {
  v1::EnqueueOutboxRequest enqueue;
  enqueue.mutable_entry()->set_chat_jid("tg:-100");
  enqueue.mutable_entry()->set_text("Good morning");
  auto entry = store_->EnqueueOutbox(enqueue);
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->state(), v1::OUTBOX_STATE_PENDING);
  EXPECT_EQ(store_->ListPendingOutbox(v1::ListPendingOutboxRequest())->entries_size(), 1);

  v1::MarkFailedRequest transient;
  transient.set_id(entry->id());
  transient.set_error("502 Bad Gateway");
  *transient.mutable_next_attempt_at() = entry->created_at();
  transient.mutable_next_attempt_at()->set_seconds(entry->created_at().seconds() + 3600);
  auto retried = store_->MarkFailed(transient);
  EXPECT_EQ(retried->state(), v1::OUTBOX_STATE_PENDING);
  EXPECT_EQ(retried->attempts(), 1);
  EXPECT_EQ(store_->ListPendingOutbox(v1::ListPendingOutboxRequest())->entries_size(), 0);

  v1::MarkDeliveredRequest delivered;
  delivered.set_id(entry->id());
  delivered.add_platform_message_ids("1190");
  delivered.add_platform_message_ids("1191");
  auto sent = store_->MarkDelivered(delivered);
  EXPECT_EQ(sent->state(), v1::OUTBOX_STATE_DELIVERED);
  EXPECT_EQ(sent->platform_message_ids_size(), 2);
  EXPECT_EQ(sent->platform_message_ids(1), "1191");

  // Delivered entries are never sent again nor turned back into failures.
  delivered.clear_platform_message_ids();
  delivered.add_platform_message_ids("9999");
  EXPECT_EQ(store_->MarkDelivered(delivered)->platform_message_ids(0), "1190");
  EXPECT_EQ(store_->MarkFailed(transient).status().code(), absl::StatusCode::kFailedPrecondition);

  auto other = store_->EnqueueOutbox(enqueue);
  v1::MarkFailedRequest permanent;
  permanent.set_id(other->id());
  permanent.set_error("Forbidden: bot was blocked by the user");
  permanent.set_permanent(true);
  EXPECT_EQ(store_->MarkFailed(permanent)->state(), v1::OUTBOX_STATE_FAILED);

  enqueue.mutable_entry()->set_text("");
  EXPECT_EQ(store_->EnqueueOutbox(enqueue).status(),
            absl::InvalidArgumentError("entry.text: must not be empty"));
}

TEST_F(StoreTest, AReplyMarksItsRunAnsweredInTheSameCommit) {
  MakeGroup("family", "tg:-100");
  auto run = BeginRun("family");
  ASSERT_TRUE(run.ok()) << run.status();

  v1::EnqueueOutboxRequest reply;
  reply.mutable_entry()->set_chat_jid("tg:-100");
  reply.mutable_entry()->set_text("Done.");
  reply.mutable_entry()->set_run_id(run->id());
  reply.set_run_answered_seq(5);
  ASSERT_TRUE(store_->EnqueueOutbox(reply).ok());
  v1::ListRunsRequest all;
  auto listed = store_->ListRuns(all);
  ASSERT_EQ(listed->runs_size(), 1);
  EXPECT_TRUE(listed->runs(0).output_delivered());
  EXPECT_EQ(listed->runs(0).answered_seq(), 5);
  // The group's cursor moved past the answered messages in the same commit.
  v1::GetCursorRequest get_cursor;
  get_cursor.set_group_folder("family");
  EXPECT_EQ(store_->GetCursor(get_cursor)->seq(), 5);

  // It only moves forward.
  reply.set_run_answered_seq(4);
  ASSERT_TRUE(store_->EnqueueOutbox(reply).ok());
  EXPECT_EQ(store_->ListRuns(all)->runs(0).answered_seq(), 5);
  EXPECT_EQ(store_->GetCursor(get_cursor)->seq(), 5);

  reply.mutable_entry()->set_run_id(0);
  EXPECT_EQ(store_->EnqueueOutbox(reply).status(),
            absl::InvalidArgumentError("run_answered_seq: set without entry.run_id"));
}

TEST_F(StoreTest, ReceiptsMoveThePlatformStateForwardOnly) {
  v1::EnqueueOutboxRequest enqueue;
  enqueue.mutable_entry()->set_chat_jid("wa:46701234567");
  enqueue.mutable_entry()->set_text("Your calendar is empty today.");
  auto entry = store_->EnqueueOutbox(enqueue);
  ASSERT_TRUE(entry.ok());
  v1::MarkDeliveredRequest delivered;
  delivered.set_id(entry->id());
  delivered.add_platform_message_ids("wamid.A");
  delivered.add_platform_message_ids("wamid.B");
  ASSERT_TRUE(store_->MarkDelivered(delivered).ok());

  // Found by the platform id alone (the gateway restarted and forgot the outbox id).
  v1::RecordReceiptRequest req;
  req.mutable_receipt()->set_chat_jid("wa:46701234567");
  req.mutable_receipt()->set_platform_message_id("wamid.B");
  req.mutable_receipt()->set_state(v1::PLATFORM_DELIVERY_STATE_DELIVERED);
  req.mutable_receipt()->mutable_time()->set_seconds(1767950010);
  auto recorded = store_->RecordReceipt(req);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->id(), entry->id());
  EXPECT_EQ(recorded->platform_state(), v1::PLATFORM_DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(recorded->platform_state_at().seconds(), 1767950010);
  EXPECT_EQ(recorded->state(), v1::OUTBOX_STATE_DELIVERED);

  // A late "sent" does not move it back; "read" moves it on.
  req.mutable_receipt()->set_state(v1::PLATFORM_DELIVERY_STATE_SENT);
  EXPECT_EQ(store_->RecordReceipt(req)->platform_state(), v1::PLATFORM_DELIVERY_STATE_DELIVERED);
  req.mutable_receipt()->set_outbox_id(entry->id());
  req.mutable_receipt()->set_state(v1::PLATFORM_DELIVERY_STATE_READ);
  EXPECT_EQ(store_->RecordReceipt(req)->platform_state(), v1::PLATFORM_DELIVERY_STATE_READ);

  // A failure is final and keeps its error; the entry stays delivered (never resent).
  req.mutable_receipt()->set_state(v1::PLATFORM_DELIVERY_STATE_FAILED);
  req.mutable_receipt()->set_error("131026: Message undeliverable");
  auto failed = store_->RecordReceipt(req);
  EXPECT_EQ(failed->platform_state(), v1::PLATFORM_DELIVERY_STATE_FAILED);
  EXPECT_EQ(failed->platform_error(), "131026: Message undeliverable");
  EXPECT_EQ(failed->state(), v1::OUTBOX_STATE_DELIVERED);
  req.mutable_receipt()->set_state(v1::PLATFORM_DELIVERY_STATE_READ);
  req.mutable_receipt()->set_error("");
  EXPECT_EQ(store_->RecordReceipt(req)->platform_state(), v1::PLATFORM_DELIVERY_STATE_FAILED);

  // Whole ids only, and only in the given chat.
  v1::RecordReceiptRequest partial;
  partial.mutable_receipt()->set_platform_message_id("wamid.");
  partial.mutable_receipt()->set_state(v1::PLATFORM_DELIVERY_STATE_SENT);
  EXPECT_EQ(store_->RecordReceipt(partial).status().code(), absl::StatusCode::kNotFound);
  partial.mutable_receipt()->set_platform_message_id("wamid.A");
  partial.mutable_receipt()->set_chat_jid("wa:1");
  EXPECT_EQ(store_->RecordReceipt(partial).status().code(), absl::StatusCode::kNotFound);
  partial.mutable_receipt()->set_outbox_id(9999);
  EXPECT_EQ(store_->RecordReceipt(partial).status().code(), absl::StatusCode::kNotFound);
  partial.mutable_receipt()->set_state(v1::PLATFORM_DELIVERY_STATE_UNSPECIFIED);
  EXPECT_EQ(store_->RecordReceipt(partial).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, FullDatabaseIsResourceExhaustedAndStaysIntact) {
  ASSERT_TRUE(store_->AppendMessage(Msg("tg:1", "1", "before")).ok());
  // Cap the file at its current size: the next growing write hits SQLITE_FULL.
  ASSERT_TRUE(
      store_->Write([](Database& db) { return db.Exec("PRAGMA max_page_count = 1"); }).ok());
  absl::Status full;
  for (int i = 2; i < 200 && full.ok(); ++i) {
    full = store_->AppendMessage(Msg("tg:1", std::to_string(i), std::string(900, 'x'))).status();
  }
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;

  v1::ListMessagesRequest list;
  list.set_chat_jid("tg:1");
  auto messages = store_->ListMessages(list);
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(messages->messages(0).text(), "before");
  absl::Status integrity = store_->Read([](Database& db) {
    auto check = db.Prepare("PRAGMA integrity_check");
    if (!check.ok()) return check.status();
    auto row = check->Step();
    if (!row.ok()) return row.status();
    return check->Text(0) == "ok" ? absl::OkStatus() : absl::DataLossError(check->Text(0));
  });
  EXPECT_TRUE(integrity.ok()) << integrity;
}

TEST_F(StoreTest, ConcurrentAppendsGetDistinctIncreasingSeqs) {
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> seqs(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto r = store_->AppendMessage(Msg("tg:" + std::to_string(t), std::to_string(i), "x"));
        if (r.ok()) seqs[t].push_back(r->seq());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<int64_t> all;
  for (const auto& per_thread : seqs) {
    ASSERT_EQ(per_thread.size(), 50u);
    for (size_t i = 1; i < per_thread.size(); ++i) EXPECT_LT(per_thread[i - 1], per_thread[i]);
    all.insert(per_thread.begin(), per_thread.end());
  }
  EXPECT_EQ(all.size(), 400u);
}

TEST_F(StoreTest, BackupContainsCommittedMessagesAndRefusesExistingPath) {
  ASSERT_TRUE(store_->AppendMessage(Msg("tg:1", "1", "keep me")).ok());
  v1::BackupRequest req;
  req.set_path(dir_ + "/backup.db");
  auto backup = store_->Backup(req);
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_EQ(backup->max_seq(), 1);
  EXPECT_GT(backup->size_bytes(), 0);
  EXPECT_EQ(store_->Backup(req).status().code(), absl::StatusCode::kAlreadyExists);
  req.set_path("relative.db");
  EXPECT_EQ(store_->Backup(req).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, BackupRefusesTheDatabasesOwnFileNames) {
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
    v1::BackupRequest req;
    req.set_path(dir_ + "/clawdie.db" + suffix);
    if (access(req.path().c_str(), F_OK) == 0) continue;  // exists: refused as such already
    absl::StatusOr<v1::BackupResponse> backup = store_->Backup(req);
    EXPECT_EQ(backup.status().code(), absl::StatusCode::kInvalidArgument) << suffix;
    EXPECT_NE(access(req.path().c_str(), F_OK), 0) << suffix;
  }
  v1::BackupRequest via_dot;
  via_dot.set_path(dir_ + "/./clawdie.db-journal");
  EXPECT_EQ(store_->Backup(via_dot).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, AFailedBackupLeavesNoFileBehind) {
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store_->AppendMessage(Msg("tg:1", std::to_string(i), std::string(500, 'x'))).ok());
  }
  v1::BackupRequest req;
  req.set_path(dir_ + "/backup.db");
  // A file size limit makes the copy fail part way, as a full disk would.
  rlimit before;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &before), 0);
  sighandler_t previous = signal(SIGXFSZ, SIG_IGN);
  rlimit small = before;
  small.rlim_cur = 8192;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  absl::StatusOr<v1::BackupResponse> backup = store_->Backup(req);
  setrlimit(RLIMIT_FSIZE, &before);
  signal(SIGXFSZ, previous);

  EXPECT_FALSE(backup.ok());
  EXPECT_NE(access(req.path().c_str(), F_OK), 0) << "a partial backup was left behind";
  ASSERT_TRUE(store_->Backup(req).ok());  // the retry is not blocked
}

TEST_F(StoreTest, ReopenKeepsDataAndSchemaVersion) {
  ASSERT_TRUE(store_->AppendMessage(Msg("tg:1", "1", "persisted")).ok());
  store_.reset();
  StoreOptions options;
  options.data_dir = dir_;
  auto reopened = Store::Open(options);
  ASSERT_TRUE(reopened.ok());
  v1::ListMessagesRequest list;
  list.set_chat_jid("tg:1");
  EXPECT_EQ((*reopened)->ListMessages(list)->messages(0).text(), "persisted");
  auto next = (*reopened)->AppendMessage(Msg("tg:1", "2", "after"));
  EXPECT_EQ(next->seq(), 2);
}

TEST_F(StoreTest, EnqueueOutboxWithTheSameDedupKeyReturnsTheFirstEntry) {
  v1::EnqueueOutboxRequest enqueue;
  enqueue.mutable_entry()->set_chat_jid("tg:1");
  enqueue.mutable_entry()->set_text("hello");
  enqueue.set_dedup_key("router-a-1");
  auto first = store_->EnqueueOutbox(enqueue);
  ASSERT_TRUE(first.ok()) << first.status();
  enqueue.mutable_entry()->set_text("hello again");  // a repeat is never a second entry
  auto repeat = store_->EnqueueOutbox(enqueue);
  ASSERT_TRUE(repeat.ok()) << repeat.status();
  EXPECT_EQ(repeat->id(), first->id());
  EXPECT_EQ(repeat->text(), "hello");
  enqueue.set_dedup_key("router-a-2");
  auto other = store_->EnqueueOutbox(enqueue);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(other->id(), first->id());
  enqueue.clear_dedup_key();  // without a key every request adds an entry
  auto plain1 = store_->EnqueueOutbox(enqueue);
  auto plain2 = store_->EnqueueOutbox(enqueue);
  ASSERT_TRUE(plain1.ok() && plain2.ok());
  EXPECT_NE(plain1->id(), plain2->id());
}

}  // namespace
}  // namespace clawdie::store
