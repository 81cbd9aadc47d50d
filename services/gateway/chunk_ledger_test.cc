// The chunk ledger: progress per outbox entry guarded by the reply's fingerprint, one
// attempt per entry at a time, and the file that carries it across a restart of the gateway
// (including a last line cut short by a crash, and compaction).
#include "services/gateway/chunk_ledger.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace clawdie::gateway {
namespace {

using Ids = std::vector<std::string>;

std::string TempDir() {
  std::string dir = "/tmp/gwledger.XXXXXX";
  return mkdtemp(dir.data());
}

size_t LineCount(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

TEST(ChunkLedgerTest, ProgressBelongsToTheSameReplyOnly) {
  std::unique_ptr<ChunkLedger> ledger = *ChunkLedger::Open("");
  uint64_t reply = ReplyFingerprint("tg:7311804522", "three chunks");
  ASSERT_TRUE(ledger->Record(41, reply, {"2001"}, false).ok());

  ChunkLedger::Progress progress = ledger->Get(41, reply);
  EXPECT_EQ(progress.ids, Ids{"2001"});
  EXPECT_FALSE(progress.complete);
  // Another database's entry 41 (another chat or text) starts afresh.
  EXPECT_TRUE(ledger->Get(41, ReplyFingerprint("tg:7311804522", "other text")).ids.empty());
  EXPECT_TRUE(ledger->Get(41, ReplyFingerprint("tg:1", "three chunks")).ids.empty());
  EXPECT_TRUE(ledger->Get(42, reply).ids.empty());
  EXPECT_NE(ReplyFingerprint("ab", "c"), ReplyFingerprint("a", "bc"));
}

TEST(ChunkLedgerTest, OneAttemptPerEntryAtATime) {
  std::unique_ptr<ChunkLedger> ledger = *ChunkLedger::Open("");
  EXPECT_TRUE(ledger->Begin(41));
  EXPECT_FALSE(ledger->Begin(41));
  EXPECT_TRUE(ledger->Begin(42));
  ledger->End(41);
  EXPECT_TRUE(ledger->Begin(41));
}

TEST(ChunkLedgerTest, SurvivesARestartIncludingALineCutShort) {
  std::string path = TempDir() + "/gateway-outbox.ledger";
  uint64_t reply = ReplyFingerprint("wa:46701234567", "long reply");
  {
    std::unique_ptr<ChunkLedger> ledger = *ChunkLedger::Open(path);
    ASSERT_TRUE(ledger->Record(7, reply, {"wamid.1"}, false).ok());
    ASSERT_TRUE(ledger->Record(7, reply, {"wamid.1", "wamid.2"}, false).ok());
    ASSERT_TRUE(ledger->Record(8, reply, {"wamid.9"}, true).ok());
  }
  // A crash in the middle of an append leaves half a line.
  {
    std::ofstream out(path, std::ios::app);
    out << R"({"outbox":7,"fp":)";
  }
  std::unique_ptr<ChunkLedger> reopened = *ChunkLedger::Open(path);
  EXPECT_EQ(reopened->Get(7, reply).ids, (Ids{"wamid.1", "wamid.2"}));
  EXPECT_FALSE(reopened->Get(7, reply).complete);
  EXPECT_TRUE(reopened->Get(8, reply).complete);

  // The half line was dropped by a rewrite, so the next append starts a line of its own.
  ASSERT_TRUE(reopened->Record(7, reply, {"wamid.1", "wamid.2", "wamid.3"}, true).ok());
  reopened.reset();
  std::unique_ptr<ChunkLedger> again = *ChunkLedger::Open(path);
  EXPECT_EQ(again->Get(7, reply).ids, (Ids{"wamid.1", "wamid.2", "wamid.3"}));
  EXPECT_TRUE(again->Get(7, reply).complete);
}

TEST(ChunkLedgerTest, AChunkBegunButNotRecordedIsKnownToBeInDoubtAfterARestart) {
  std::string path = TempDir() + "/gateway-outbox.ledger";
  uint64_t reply = ReplyFingerprint("tg:5", "two chunks");
  {
    std::unique_ptr<ChunkLedger> ledger = *ChunkLedger::Open(path);
    ASSERT_TRUE(ledger->RecordSending(3, reply, {}).ok());
    ASSERT_TRUE(ledger->Record(3, reply, {"11"}, false).ok());
    ASSERT_TRUE(ledger->RecordSending(3, reply, {"11"}).ok());
    // The gateway dies here, before Telegram's answer to chunk 2 is recorded.
  }
  std::unique_ptr<ChunkLedger> reopened = *ChunkLedger::Open(path);
  ChunkLedger::Progress progress = reopened->Get(3, reply);
  EXPECT_EQ(progress.ids, Ids{"11"});
  EXPECT_TRUE(progress.sending);
  EXPECT_FALSE(progress.complete);

  ASSERT_TRUE(reopened->Record(3, reply, {"11", "12"}, true).ok());
  EXPECT_FALSE(reopened->Get(3, reply).sending);
}

TEST(ChunkLedgerTest, KeepsTheNewestEntriesAndCompactsTheFile) {
  std::string path = TempDir() + "/gateway-outbox.ledger";
  std::unique_ptr<ChunkLedger> ledger = *ChunkLedger::Open(path, /*capacity=*/3);
  for (int64_t id = 1; id <= 7; ++id) {
    ASSERT_TRUE(ledger->Record(id, 1, {std::to_string(id)}, true).ok());
  }
  EXPECT_TRUE(ledger->Get(4, 1).ids.empty());
  EXPECT_EQ(ledger->Get(5, 1).ids, Ids{"5"});
  EXPECT_EQ(ledger->Get(7, 1).ids, Ids{"7"});
  // The seventh append passed twice the capacity: the file was rewritten to the newest three.
  EXPECT_EQ(LineCount(path), 3u);

  ledger.reset();
  std::unique_ptr<ChunkLedger> reopened = *ChunkLedger::Open(path, 3);
  EXPECT_TRUE(reopened->Get(4, 1).ids.empty());
  EXPECT_EQ(reopened->Get(6, 1).ids, Ids{"6"});
}

TEST(ChunkLedgerTest, UnreadableFileIsAnErrorNamingIt) {
  std::string dir = TempDir();
  // A directory where the file should be cannot be read as a ledger.
  absl::StatusOr<std::unique_ptr<ChunkLedger>> ledger = ChunkLedger::Open(dir);
  ASSERT_FALSE(ledger.ok());
  EXPECT_NE(std::string(ledger.status().message()).find(dir), std::string::npos) << ledger.status();
}

}  // namespace
}  // namespace clawdie::gateway
