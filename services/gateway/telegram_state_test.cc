// Durable Telegram state: offset, migrations and blocks survive reopening; in-place offset
// writes keep the file valid when the text gets shorter.
#include "services/gateway/telegram_state.h"

#include <stdlib.h>

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace clawdie::gateway {
namespace {

std::string TempPath() {
  std::string dir = ::testing::TempDir() + "gwstate.XXXXXX";
  return std::string(mkdtemp(dir.data())) + "/telegram.state";
}

TEST(TelegramStateTest, MissingFileIsEmptyState) {
  absl::StatusOr<std::unique_ptr<TelegramState>> state = TelegramState::Open(TempPath());
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ((*state)->offset(), 0);
}

TEST(TelegramStateTest, SurvivesReopen) {
  std::string path = TempPath();
  {
    std::unique_ptr<TelegramState> state = *TelegramState::Open(path);
    ASSERT_TRUE(state->ConfirmUpTo(1000000).ok());
    ASSERT_TRUE(state->AddMigration("tg:-1", "tg:-1002").ok());
    ASSERT_TRUE(state->SetBlocked("tg:5", true).ok());
    ASSERT_TRUE(state->ConfirmUpTo(1000001).ok());
    ASSERT_TRUE(state->ConfirmUpTo(7).ok());  // never lowered
  }
  std::unique_ptr<TelegramState> state = *TelegramState::Open(path);
  EXPECT_EQ(state->offset(), 1000001);
  EXPECT_EQ(state->Resolve("tg:-1"), "tg:-1002");
  EXPECT_EQ(state->Resolve("tg:9"), "tg:9");
  EXPECT_TRUE(state->IsBlocked("tg:5"));
}

TEST(TelegramStateTest, ShorterDocumentStaysValidJson) {
  std::string path = TempPath();
  {
    std::unique_ptr<TelegramState> state = *TelegramState::Open(path);
    ASSERT_TRUE(state->SetBlocked("tg:123456789", true).ok());
    ASSERT_TRUE(state->ConfirmUpTo(5).ok());
    ASSERT_TRUE(state->SetBlocked("tg:123456789", false).ok());  // text shrinks
    ASSERT_TRUE(state->ConfirmUpTo(6).ok());
  }
  absl::StatusOr<std::unique_ptr<TelegramState>> state = TelegramState::Open(path);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ((*state)->offset(), 6);
  EXPECT_FALSE((*state)->IsBlocked("tg:123456789"));
}

TEST(TelegramStateTest, CorruptFileIsAnErrorNamingIt) {
  std::string path = TempPath();
  std::ofstream(path) << "not json";
  absl::StatusOr<std::unique_ptr<TelegramState>> state = TelegramState::Open(path);
  EXPECT_EQ(state.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(state.status().message()).find(path), std::string::npos);
}

}  // namespace
}  // namespace clawdie::gateway
