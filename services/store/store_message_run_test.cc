// The store calls the router makes per inbound message and per run start: AppendMessage (and
// AppendMessages, several at once) with the chat's metadata and group in one transaction, and
// BeginMessageRun, which reads what a run needs and records the run in one transaction.
#include <sys/wait.h>
#include <unistd.h>

#include "gtest/gtest.h"
#include "services/store/store.h"

namespace clawdie::store {
namespace {

class MessageRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/clawdie_store_XXXXXX";
    dir_ = mkdtemp(dir);
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<Store> OpenStore() {
    StoreOptions options;
    options.data_dir = dir_;
    options.max_text_bytes = 1000;
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  static v1::AppendMessageRequest Msg(const std::string& chat, const std::string& id,
                                      const std::string& text, bool is_own = false) {
    v1::AppendMessageRequest req;
    req.mutable_message()->set_chat_jid(chat);
    req.mutable_message()->set_platform_message_id(id);
    req.mutable_message()->set_text(text);
    req.mutable_message()->set_sender_name(is_own ? "Andy" : "Mara");
    req.mutable_message()->set_is_own(is_own);
    req.mutable_message()->mutable_time()->set_seconds(1767949200);
    req.mutable_chat()->set_jid(chat);
    req.mutable_chat()->set_name("Family");
    return req;
  }

  int64_t Append(const std::string& chat, const std::string& id, const std::string& text,
                 bool is_own = false) {
    absl::StatusOr<v1::AppendMessageResponse> stored =
        store_->AppendMessage(Msg(chat, id, text, is_own));
    EXPECT_TRUE(stored.ok()) << stored.status();
    return stored.ok() ? stored->seq() : -1;
  }

  void MakeGroup(const std::string& folder, const std::string& chat) {
    v1::CreateGroupRequest req;
    req.mutable_group()->set_folder(folder);
    req.mutable_group()->set_chat_jid(chat);
    req.mutable_group()->set_trigger("@Andy");
    req.mutable_group()->set_requires_trigger(true);
    ASSERT_TRUE(store_->CreateGroup(req).ok());
  }

  // The group as registered by MakeGroup, for if_group.
  static v1::Group Group(const std::string& folder) {
    v1::Group group;
    group.set_folder(folder);
    group.set_chat_jid("tg:-100");
    group.set_trigger("@Andy");
    group.set_requires_trigger(true);
    return group;
  }

  static v1::BeginMessageRunRequest Begin(const std::string& folder, int max_messages = 0,
                                          int64_t resume_run_id = 0) {
    v1::BeginMessageRunRequest req;
    req.set_group_folder(folder);
    req.set_max_messages(max_messages);
    req.set_resume_run_id(resume_run_id);
    return req;
  }

  std::vector<v1::Run> UnfinishedRuns() {
    v1::ListRunsRequest req;
    req.set_unfinished_only(true);
    absl::StatusOr<v1::ListRunsResponse> runs = store_->ListRuns(req);
    EXPECT_TRUE(runs.ok()) << runs.status();
    if (!runs.ok()) return {};
    return {runs->runs().begin(), runs->runs().end()};
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(MessageRunTest, AppendAnswersTheChatsGroup) {
  MakeGroup("family", "tg:-100");
  absl::StatusOr<v1::AppendMessageResponse> registered =
      store_->AppendMessage(Msg("tg:-100", "1", "@Andy hi"));
  absl::StatusOr<v1::AppendMessageResponse> unregistered =
      store_->AppendMessage(Msg("tg:-200", "1", "hello"));
  ASSERT_TRUE(registered.ok()) << registered.status();
  ASSERT_TRUE(unregistered.ok()) << unregistered.status();
  EXPECT_TRUE(registered->has_group());
  EXPECT_EQ(registered->group().folder(), "family");
  EXPECT_EQ(registered->group().trigger(), "@Andy");
  EXPECT_FALSE(unregistered->has_group());
}

TEST_F(MessageRunTest, DuplicateAppendAnswersTheFirstSeqAndGroupAndStoresOnce) {
  MakeGroup("family", "tg:-100");
  int64_t first = Append("tg:-100", "880", "hello");
  absl::StatusOr<v1::AppendMessageResponse> again =
      store_->AppendMessage(Msg("tg:-100", "880", "hello (redelivered)"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->inserted());
  EXPECT_EQ(again->seq(), first);
  EXPECT_EQ(again->group().folder(), "family");

  absl::StatusOr<v1::BeginMessageRunResponse> started = store_->BeginMessageRun(Begin("family"));
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_EQ(started->messages_size(), 1);
  EXPECT_EQ(started->messages(0).text(), "hello");
}

TEST_F(MessageRunTest, AppendMessagesAnswersEachMessageOnItsOwnInOrder) {
  MakeGroup("family", "tg:-100");
  int64_t earlier = Append("tg:-100", "1", "stored before");
  v1::AppendMessagesRequest req;
  *req.add_appends() = Msg("tg:-100", "2", "new");
  *req.add_appends() = Msg("tg:-100", "1", "stored before (redelivered)");
  *req.add_appends() = Msg("tg:-100", "3", std::string(2000, 'x'));
  *req.add_appends() = Msg("tg:-200", "2", "unregistered chat");
  *req.add_appends() = Msg("tg:-100", "2", "new (twice in one call)");
  absl::StatusOr<v1::AppendMessagesResponse> stored = store_->AppendMessages(req);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->results_size(), 5);

  const v1::AppendMessageResult& fresh = stored->results(0);
  EXPECT_EQ(fresh.code(), 0);
  EXPECT_TRUE(fresh.response().inserted());
  EXPECT_EQ(fresh.response().seq(), earlier + 1);
  EXPECT_EQ(fresh.response().group().folder(), "family");
  EXPECT_EQ(stored->results(1).code(), 0);
  EXPECT_FALSE(stored->results(1).response().inserted());
  EXPECT_EQ(stored->results(1).response().seq(), earlier);
  EXPECT_EQ(stored->results(2).code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(stored->results(2).error(), "message.text: 2000 bytes, over the limit of 1000");
  EXPECT_FALSE(stored->results(2).has_response());
  EXPECT_EQ(stored->results(3).code(), 0);
  EXPECT_TRUE(stored->results(3).response().inserted());
  EXPECT_FALSE(stored->results(3).response().has_group());
  EXPECT_EQ(stored->results(4).code(), 0);
  EXPECT_FALSE(stored->results(4).response().inserted());
  EXPECT_EQ(stored->results(4).response().seq(), fresh.response().seq());

  v1::ListMessagesRequest list;
  list.set_chat_jid("tg:-100");
  absl::StatusOr<v1::ListMessagesResponse> messages = store_->ListMessages(list);
  ASSERT_TRUE(messages.ok()) << messages.status();
  ASSERT_EQ(messages->messages_size(), 2);
  EXPECT_EQ(messages->messages(0).text(), "stored before");
  EXPECT_EQ(messages->messages(1).text(), "new");
}

TEST_F(MessageRunTest, AppendCanBeginTheRunItTriggersInTheSameCommit) {
  MakeGroup("family", "tg:-100");
  int64_t earlier = Append("tg:-100", "1", "context before");
  v1::AppendMessageRequest req = Msg("tg:-100", "2", "@Andy now");
  *req.mutable_begin_run() = Begin("family");
  *req.mutable_begin_run()->mutable_if_group() = Group("family");
  absl::StatusOr<v1::AppendMessageResponse> stored = store_->AppendMessage(req);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(stored->inserted());
  EXPECT_EQ(stored->run_start_code(), 0) << stored->run_start_error();
  ASSERT_TRUE(stored->run_start().has_run());
  EXPECT_EQ(stored->run_start().run().first_seq(), earlier);
  EXPECT_EQ(stored->run_start().run().last_seq(), stored->seq());
  ASSERT_EQ(stored->run_start().messages_size(), 2);
  EXPECT_EQ(stored->run_start().messages(1).text(), "@Andy now");

  std::vector<v1::Run> runs = UnfinishedRuns();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].id(), stored->run_start().run().id());
}

TEST_F(MessageRunTest, ARefusedRunStartNeverRefusesTheMessage) {
  MakeGroup("family", "tg:-100");
  v1::AppendMessageRequest changed = Msg("tg:-100", "1", "@Andy hi");
  *changed.mutable_begin_run() = Begin("family");
  v1::Group decided_on = Group("family");
  decided_on.set_trigger("@Bob");
  *changed.mutable_begin_run()->mutable_if_group() = decided_on;
  absl::StatusOr<v1::AppendMessageResponse> stored = store_->AppendMessage(changed);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(stored->inserted());
  EXPECT_EQ(stored->run_start_code(), static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(stored->run_start_error(),
            "if_group: group family changed since the run was decided on");
  EXPECT_FALSE(stored->has_run_start());

  v1::AppendMessageRequest undecided = Msg("tg:-100", "2", "@Andy again");
  *undecided.mutable_begin_run() = Begin("family");
  stored = store_->AppendMessage(undecided);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_TRUE(stored->inserted());
  EXPECT_EQ(stored->run_start_code(), static_cast<int>(absl::StatusCode::kInvalidArgument));

  v1::AppendMessageRequest other_chat = Msg("tg:-200", "1", "@Andy hello");
  *other_chat.mutable_begin_run() = Begin("family");
  *other_chat.mutable_begin_run()->mutable_if_group() = Group("family");
  stored = store_->AppendMessage(other_chat);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->run_start_code(), static_cast<int>(absl::StatusCode::kInvalidArgument));

  EXPECT_TRUE(UnfinishedRuns().empty());
  v1::ListMessagesRequest list;
  list.set_chat_jid("tg:-100");
  EXPECT_EQ(store_->ListMessages(list)->messages_size(), 2);
}

TEST_F(MessageRunTest, AppendListsWhatALiveAgentHasNotSeen) {
  int64_t seen = Append("tg:-100", "1", "seen");
  int64_t context = Append("tg:-100", "2", "context");
  v1::AppendMessageRequest req = Msg("tg:-100", "3", "@Andy and?");
  req.set_list_after_seq(seen);
  absl::StatusOr<v1::AppendMessageResponse> stored = store_->AppendMessage(req);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->listed_size(), 2);
  EXPECT_EQ(stored->listed(0).seq(), context);
  EXPECT_EQ(stored->listed(1).seq(), stored->seq());
  EXPECT_EQ(stored->listed_omitted(), 0);

  v1::AppendMessageRequest capped = Msg("tg:-100", "4", "@Andy more");
  capped.set_list_after_seq(0);
  capped.set_list_limit(2);
  stored = store_->AppendMessage(capped);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->listed_size(), 2);
  EXPECT_EQ(stored->listed(1).seq(), stored->seq());
  EXPECT_EQ(stored->listed_omitted(), 2);

  v1::AppendMessageRequest unasked = Msg("tg:-100", "5", "no listing");
  EXPECT_EQ(store_->AppendMessage(unasked)->listed_size(), 0);
}

TEST_F(MessageRunTest, AppendMessagesRefusesOversizedCallsWhole) {
  v1::AppendMessagesRequest req;
  for (int i = 0; i < 1001; ++i) *req.add_appends() = Msg("tg:-100", std::to_string(i), "x");
  EXPECT_EQ(store_->AppendMessages(req).status(),
            absl::InvalidArgumentError("appends: 1001 messages, over the limit of 1000"));
  v1::ListMessagesRequest list;
  list.set_chat_jid("tg:-100");
  EXPECT_EQ(store_->ListMessages(list)->messages_size(), 0);
}

TEST_F(MessageRunTest, AcknowledgedAppendSurvivesAProcessThatDiesAtOnce) {
  store_.reset();
  // A child process appends (alone and in a batch) and dies without closing anything, right
  // after the acknowledgement, as a crashed store would.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    StoreOptions options;
    options.data_dir = dir_;
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    bool stored = store.ok() && (*store)->AppendMessage(Msg("tg:-100", "7", "kept")).ok();
    v1::AppendMessagesRequest batch;
    *batch.add_appends() = Msg("tg:-100", "8", "kept too");
    *batch.add_appends() = Msg("tg:-100", "9", "and this");
    absl::StatusOr<v1::AppendMessagesResponse> batched =
        stored ? (*store)->AppendMessages(batch) : absl::UnavailableError("not opened");
    stored = batched.ok() && batched->results(0).code() == 0 && batched->results(1).code() == 0;

    v1::CreateGroupRequest group;
    group.mutable_group()->set_folder("family");
    group.mutable_group()->set_chat_jid("tg:-100");
    group.mutable_group()->set_trigger("@Andy");
    group.mutable_group()->set_requires_trigger(true);
    v1::AppendMessageRequest trigger = Msg("tg:-100", "10", "@Andy answer all that");
    *trigger.mutable_begin_run() = Begin("family");
    *trigger.mutable_begin_run()->mutable_if_group() = Group("family");
    absl::StatusOr<v1::AppendMessageResponse> begun = stored && (*store)->CreateGroup(group).ok()
                                                          ? (*store)->AppendMessage(trigger)
                                                          : absl::UnavailableError("not stored");
    stored = begun.ok() && begun->run_start().has_run();
    _exit(stored ? 0 : 1);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  ASSERT_EQ(WEXITSTATUS(wait_status), 0);

  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  v1::ListMessagesRequest list;
  list.set_chat_jid("tg:-100");
  absl::StatusOr<v1::ListMessagesResponse> messages = store_->ListMessages(list);
  ASSERT_TRUE(messages.ok()) << messages.status();
  ASSERT_EQ(messages->messages_size(), 4);
  EXPECT_EQ(messages->messages(0).text(), "kept");
  EXPECT_EQ(messages->messages(1).text(), "kept too");
  EXPECT_EQ(messages->messages(2).text(), "and this");
  std::vector<v1::Run> runs = UnfinishedRuns();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].first_seq(), messages->messages(0).seq());
  EXPECT_EQ(runs[0].last_seq(), messages->messages(3).seq());
  absl::StatusOr<v1::ListChatsResponse> chats = store_->ListChats(v1::ListChatsRequest());
  ASSERT_TRUE(chats.ok()) << chats.status();
  ASSERT_EQ(chats->chats_size(), 1);
  EXPECT_EQ(chats->chats(0).name(), "Family");
}

TEST_F(MessageRunTest, RefusedAppendLeavesTheChatMetadataUntouched) {
  ASSERT_GT(Append("tg:-100", "1", "before"), 0);
  // Cap the file at its current size: the message no longer fits, the chat update would.
  ASSERT_TRUE(
      store_->Write([](Database& db) { return db.Exec("PRAGMA max_page_count = 1"); }).ok());
  absl::Status full;
  for (int i = 2; i < 200 && full.ok(); ++i) {
    v1::AppendMessageRequest req = Msg("tg:-100", std::to_string(i), std::string(900, 'x'));
    req.mutable_chat()->set_name("Renamed " + std::to_string(i));
    full = store_->AppendMessage(req).status();
  }
  ASSERT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;

  absl::StatusOr<v1::ListChatsResponse> chats = store_->ListChats(v1::ListChatsRequest());
  ASSERT_TRUE(chats.ok()) << chats.status();
  ASSERT_EQ(chats->chats_size(), 1);
  v1::ListMessagesRequest list;
  list.set_chat_jid("tg:-100");
  absl::StatusOr<v1::ListMessagesResponse> messages = store_->ListMessages(list);
  ASSERT_TRUE(messages.ok()) << messages.status();
  // Every acknowledged append renamed the chat together with its message; the refused one
  // did neither.
  EXPECT_EQ(
      chats->chats(0).name(),
      messages->messages_size() == 1
          ? "Family"
          : "Renamed " + messages->messages(messages->messages_size() - 1).platform_message_id());
}

TEST_F(MessageRunTest, BeginMessageRunListsAfterTheCursorAndRecordsTheRun) {
  MakeGroup("family", "tg:-100");
  int64_t handled = Append("tg:-100", "1", "answered already");
  Append("tg:-200", "1", "another chat");
  int64_t first = Append("tg:-100", "2", "@Andy what time?");
  int64_t last = Append("tg:-100", "3", "and where?");
  v1::AdvanceCursorRequest advance;
  advance.set_group_folder("family");
  advance.set_seq(handled);
  ASSERT_TRUE(store_->AdvanceCursor(advance).ok());
  v1::SetSessionRequest session;
  session.set_group_folder("family");
  session.set_session_id("s-1");
  ASSERT_TRUE(store_->SetSession(session).ok());

  absl::StatusOr<v1::BeginMessageRunResponse> started = store_->BeginMessageRun(Begin("family"));
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(started->group().chat_jid(), "tg:-100");
  EXPECT_EQ(started->cursor_seq(), handled);
  EXPECT_EQ(started->session_id(), "s-1");
  ASSERT_EQ(started->messages_size(), 2);
  EXPECT_EQ(started->messages(0).text(), "@Andy what time?");
  EXPECT_EQ(started->messages(1).text(), "and where?");
  EXPECT_EQ(started->omitted(), 0);
  ASSERT_TRUE(started->has_run());
  EXPECT_EQ(started->run().first_seq(), first);
  EXPECT_EQ(started->run().last_seq(), last);
  EXPECT_EQ(started->run().state(), v1::RUN_STATE_PENDING);

  std::vector<v1::Run> runs = UnfinishedRuns();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].id(), started->run().id());
  EXPECT_EQ(runs[0].group_folder(), "family");
  EXPECT_EQ(runs[0].last_seq(), last);
}

TEST_F(MessageRunTest, BeginMessageRunKeepsTheNewestAndCountsTheRest) {
  MakeGroup("family", "tg:-100");
  for (int i = 1; i <= 5; ++i) Append("tg:-100", std::to_string(i), "m" + std::to_string(i));
  absl::StatusOr<v1::BeginMessageRunResponse> started =
      store_->BeginMessageRun(Begin("family", /*max_messages=*/2));
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_EQ(started->messages_size(), 2);
  EXPECT_EQ(started->messages(0).text(), "m4");
  EXPECT_EQ(started->messages(1).text(), "m5");
  EXPECT_EQ(started->omitted(), 3);
  EXPECT_EQ(started->run().first_seq(), started->messages(0).seq());
}

TEST_F(MessageRunTest, BeginMessageRunStartsAtTheFirstMessageNotOurOwn) {
  MakeGroup("family", "tg:-100");
  int64_t own = Append("tg:-100", "1", "our earlier reply", /*is_own=*/true);
  int64_t question = Append("tg:-100", "2", "thanks, and?");
  absl::StatusOr<v1::BeginMessageRunResponse> started = store_->BeginMessageRun(Begin("family"));
  ASSERT_TRUE(started.ok()) << started.status();
  ASSERT_EQ(started->messages_size(), 2);
  EXPECT_EQ(started->messages(0).seq(), own);
  EXPECT_EQ(started->run().first_seq(), question);
  EXPECT_EQ(started->run().last_seq(), question);
}

TEST_F(MessageRunTest, BeginMessageRunRecordsNothingWithoutAMessageToAnswer) {
  MakeGroup("family", "tg:-100");
  absl::StatusOr<v1::BeginMessageRunResponse> empty = store_->BeginMessageRun(Begin("family"));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->messages_size(), 0);
  EXPECT_FALSE(empty->has_run());

  int64_t own = Append("tg:-100", "1", "our own reply", /*is_own=*/true);
  absl::StatusOr<v1::BeginMessageRunResponse> only_own = store_->BeginMessageRun(Begin("family"));
  ASSERT_TRUE(only_own.ok()) << only_own.status();
  ASSERT_EQ(only_own->messages_size(), 1);
  EXPECT_EQ(only_own->messages(0).seq(), own);
  EXPECT_FALSE(only_own->has_run());
  EXPECT_TRUE(UnfinishedRuns().empty());
}

TEST_F(MessageRunTest, BeginMessageRunResumesARunOfTheGroup) {
  MakeGroup("family", "tg:-100");
  MakeGroup("work", "tg:-300");
  Append("tg:-100", "1", "@Andy first");
  absl::StatusOr<v1::BeginMessageRunResponse> first = store_->BeginMessageRun(Begin("family"));
  ASSERT_TRUE(first.ok()) << first.status();
  v1::UpdateRunRequest failed;
  failed.set_run_id(first->run().id());
  failed.set_state(v1::RUN_STATE_RUNNING);
  failed.set_add_attempt(true);
  ASSERT_TRUE(store_->UpdateRun(failed).ok());
  int64_t later = Append("tg:-100", "2", "@Andy still there?");

  absl::StatusOr<v1::BeginMessageRunResponse> retry =
      store_->BeginMessageRun(Begin("family", 0, first->run().id()));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->run().id(), first->run().id());
  EXPECT_EQ(retry->run().state(), v1::RUN_STATE_PENDING);
  EXPECT_EQ(retry->run().last_seq(), later);
  EXPECT_EQ(retry->run().attempts(), 1);
  EXPECT_EQ(UnfinishedRuns().size(), 1u);

  Append("tg:-300", "1", "@Andy hi");
  EXPECT_EQ(store_->BeginMessageRun(Begin("work", 0, first->run().id())).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->BeginMessageRun(Begin("work", 0, 999)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(UnfinishedRuns().size(), 1u);
}

TEST_F(MessageRunTest, BeginMessageRunRefusesUnknownGroupsAndBadInput) {
  EXPECT_EQ(store_->BeginMessageRun(Begin("nobody")).status(),
            absl::NotFoundError("group folder nobody: not registered"));
  EXPECT_EQ(store_->BeginMessageRun(Begin("../etc")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->BeginMessageRun(Begin("family", -1)).status(),
            absl::InvalidArgumentError("max_messages: negative"));
}

TEST_F(MessageRunTest, RecordedRunSurvivesAReopen) {
  MakeGroup("family", "tg:-100");
  int64_t seq = Append("tg:-100", "1", "@Andy remember this");
  absl::StatusOr<v1::BeginMessageRunResponse> started = store_->BeginMessageRun(Begin("family"));
  ASSERT_TRUE(started.ok()) << started.status();
  store_.reset();
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  std::vector<v1::Run> runs = UnfinishedRuns();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].id(), started->run().id());
  EXPECT_EQ(runs[0].first_seq(), seq);
}

}  // namespace
}  // namespace clawdie::store
