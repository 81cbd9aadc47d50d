#include "services/router/tool_auth.h"

#include "gtest/gtest.h"

namespace clawdie::router {
namespace {

const Caller kMain{"main", "tg:111", true};
const Caller kFamily{"family", "tg:-100222", false};

TEST(AuthorizeSendMessageTest, AnyGroupMaySendToItsOwnChat) {
  EXPECT_TRUE(AuthorizeSendMessage(kFamily, "tg:-100222", true).ok());
  EXPECT_TRUE(AuthorizeSendMessage(kMain, "tg:111", true).ok());
}

TEST(AuthorizeSendMessageTest, OnlyMainMaySendToOtherRegisteredChats) {
  absl::Status refused = AuthorizeSendMessage(kFamily, "tg:111", true);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.message(), "send_message tg:111: group family may only send to its own chat");
  EXPECT_TRUE(AuthorizeSendMessage(kMain, "tg:-100222", true).ok());
  absl::Status unregistered = AuthorizeSendMessage(kMain, "tg:999", false);
  EXPECT_EQ(unregistered.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(unregistered.message(), "send_message tg:999: not a registered chat");
}

TEST(AuthorizeTaskAccessTest, NonMainOnlyForItsOwnTasksMainForAny) {
  for (const char* tool :
       {"schedule_task", "list_tasks", "pause_task", "resume_task", "cancel_task", "update_task"}) {
    EXPECT_TRUE(AuthorizeTaskAccess(kFamily, tool, "family").ok()) << tool;
    EXPECT_TRUE(AuthorizeTaskAccess(kMain, tool, "family").ok()) << tool;
    absl::Status refused = AuthorizeTaskAccess(kFamily, tool, "work");
    EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied) << tool;
    EXPECT_EQ(refused.message(),
              std::string(tool) + " group work: group family may only manage its own tasks");
  }
}

clawdie::v1::Group NewGroup(const std::string& folder, bool is_main = false) {
  clawdie::v1::Group group;
  group.set_chat_jid("tg:-100333");
  group.set_folder(folder);
  group.set_is_main(is_main);
  return group;
}

TEST(AuthorizeRegisterGroupTest, MainOnlyValidFolderNeverASecondMain) {
  EXPECT_TRUE(AuthorizeRegisterGroup(kMain, NewGroup("work-chat_2")).ok());
  EXPECT_EQ(AuthorizeRegisterGroup(kFamily, NewGroup("work")).message(),
            "register_group work: group family is not the main group");
  EXPECT_EQ(AuthorizeRegisterGroup(kMain, NewGroup("boss", true)).message(),
            "register_group boss: there is already a main group");
  absl::Status bad = AuthorizeRegisterGroup(kMain, NewGroup("../etc"));
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      bad.message(),
      "register_group: folder \"../etc\": expected [A-Za-z0-9][A-Za-z0-9_-]{0,63}, not global");
}

TEST(ValidateGroupFolderTest, AcceptsTheDocumentedPatternOnly) {
  EXPECT_TRUE(ValidateGroupFolder("a").ok());
  EXPECT_TRUE(ValidateGroupFolder(std::string(64, 'x')).ok());
  EXPECT_FALSE(ValidateGroupFolder(std::string(65, 'x')).ok());
  EXPECT_FALSE(ValidateGroupFolder("").ok());
  EXPECT_FALSE(ValidateGroupFolder("global").ok());
  EXPECT_FALSE(ValidateGroupFolder("-lead").ok());
  EXPECT_FALSE(ValidateGroupFolder("_lead").ok());
  EXPECT_FALSE(ValidateGroupFolder("a.b").ok());
  EXPECT_FALSE(ValidateGroupFolder("a/b").ok());
  EXPECT_FALSE(ValidateGroupFolder("GLOBAL").ok());
}

TEST(ValidateGroupSettingsTest, RefusesEachBadSettingByName) {
  clawdie::v1::Group group;
  group.set_folder("family");
  group.set_chat_jid("tg:-100222");
  group.set_trigger("@Andy");
  group.set_requires_trigger(true);
  group.set_timezone("Europe/Stockholm");
  EXPECT_TRUE(ValidateGroupSettings(group).ok());

  clawdie::v1::Group bad = group;
  bad.set_timezone("Europe/Stokholm");
  EXPECT_EQ(ValidateGroupSettings(bad).code(), absl::StatusCode::kInvalidArgument);
  bad = group;
  bad.set_chat_jid("tg:abc");
  EXPECT_EQ(ValidateGroupSettings(bad).message(),
            "chat tg:abc: a Telegram chat id is a decimal number, e.g. tg:-1002291837465");
  bad = group;
  bad.mutable_sandbox()->mutable_timeout()->set_seconds(-5);
  EXPECT_EQ(ValidateGroupSettings(bad).message(),
            "sandbox timeout of group family: must not be negative (0 or unset means "
            "AGENT_TIMEOUT)");
  bad = group;
  bad.set_trigger("");
  EXPECT_EQ(ValidateGroupSettings(bad).message(), "group family: requires a trigger but has none");
  bad.set_trigger(" \t ");
  EXPECT_EQ(ValidateGroupSettings(bad).code(), absl::StatusCode::kInvalidArgument);
  bad.set_requires_trigger(false);
  EXPECT_TRUE(ValidateGroupSettings(bad).ok());
}

}  // namespace
}  // namespace clawdie::router
