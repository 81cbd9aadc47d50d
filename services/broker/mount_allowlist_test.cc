#include "services/broker/mount_allowlist.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "services/broker/broker_test_util.h"

namespace clawdie::broker {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

class MountAllowlistTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = root_.path() + "/home";
    fs::create_directories(home_ + "/.ssh");
    fs::create_directories(home_ + "/projects/app");
    fs::create_directories(home_ + "/projects/keys");
    fs::create_directories(home_ + "/clawdie-data");
    std::ofstream(home_ + "/projects/keys/server.pem") << "key";
    fs::create_directory_symlink("/etc", home_ + "/projects/etc-link");
    old_home_ = std::getenv("HOME") ? std::getenv("HOME") : "";
    ::setenv("HOME", home_.c_str(), 1);
  }
  void TearDown() override { ::setenv("HOME", old_home_.c_str(), 1); }

  MountAllowlist Parse(const std::string& json) {
    auto allowlist = MountAllowlist::Parse(json, "test", {home_ + "/clawdie-data"});
    EXPECT_TRUE(allowlist.ok()) << allowlist.status();
    return allowlist.ok() ? *allowlist : MountAllowlist();
  }

  std::string Refusal(const MountAllowlist& allowlist, const std::string& path) {
    auto mount = allowlist.Check({path, "x", false}, /*is_main=*/true);
    EXPECT_FALSE(mount.ok()) << path;
    return std::string(mount.status().message());
  }

  TempDir root_;
  std::string home_;
  std::string old_home_;
};

TEST_F(MountAllowlistTest, MissingFileMeansNoExtraMounts) {
  auto allowlist = MountAllowlist::Load(root_.path() + "/absent.json", {});
  ASSERT_TRUE(allowlist.ok()) << allowlist.status();
  EXPECT_TRUE(allowlist->roots().empty());
  auto mount = allowlist->Check({home_ + "/projects", "p", false}, true);
  EXPECT_EQ(mount.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(mount.status().message(), "mount " + home_ + "/projects: not under an allowed root");
}

TEST_F(MountAllowlistTest, AllowsAFolderUnderARootReadOnlyByDefault) {
  MountAllowlist allowlist = Parse(R"({"allowedRoots":[{"path":"~/projects"}]})");
  auto mount = allowlist.Check({"~/projects/app", "app", true}, /*is_main=*/true);
  ASSERT_TRUE(mount.ok()) << mount.status();
  EXPECT_EQ(mount->host_path, home_ + "/projects/app");
  EXPECT_EQ(mount->sandbox_path, "/workspace/extra/app");
  EXPECT_FALSE(mount->read_write);
}

TEST_F(MountAllowlistTest, WriteNeedsAWritableRootAndForNonMainTheFlagOff) {
  MountAllowlist strict =
      Parse(R"({"allowedRoots":[{"path":"~/projects","allowReadWrite":true}]})");
  EXPECT_TRUE(strict.Check({"~/projects/app", "app", true}, true)->read_write);
  EXPECT_FALSE(strict.Check({"~/projects/app", "app", true}, false)->read_write);
  EXPECT_FALSE(strict.Check({"~/projects/app", "app", false}, true)->read_write);

  MountAllowlist relaxed = Parse(
      R"({"allowedRoots":[{"path":"~/projects","allowReadWrite":true}],"nonMainReadOnly":false})");
  EXPECT_TRUE(relaxed.Check({"~/projects/app", "app", true}, false)->read_write);
}

TEST_F(MountAllowlistTest, RefusesHomeSshRootVarAndTheStoreDirectory) {
  // Even an allowlist that names the whole home and / cannot expose these.
  MountAllowlist allowlist = Parse(R"({"allowedRoots":[{"path":"~"}]})");
  EXPECT_EQ(Refusal(allowlist, "~"), "mount ~: contains blocked entry .ssh");
  EXPECT_EQ(Refusal(allowlist, "~/.ssh"), "mount ~/.ssh: blocked component .ssh");
  EXPECT_EQ(Refusal(allowlist, "/"), "mount /: refusing /");
  EXPECT_EQ(Refusal(allowlist, "/var"), "mount /var: not under an allowed root");
  EXPECT_EQ(Refusal(allowlist, home_ + "/clawdie-data"),
            "mount " + home_ + "/clawdie-data: overlaps protected path " + home_ + "/clawdie-data");
}

TEST_F(MountAllowlistTest, ResolvesSymlinksBeforeChecking) {
  MountAllowlist allowlist = Parse(R"({"allowedRoots":[{"path":"~/projects"}]})");
  EXPECT_EQ(Refusal(allowlist, "~/projects/etc-link"),
            "mount ~/projects/etc-link: not under an allowed root");
}

TEST_F(MountAllowlistTest, RefusesPrivateKeysAndConfiguredPatterns) {
  MountAllowlist allowlist =
      Parse(R"({"allowedRoots":[{"path":"~/projects"}],"blockedPatterns":["App"]})");
  EXPECT_EQ(Refusal(allowlist, "~/projects/keys/server.pem"),
            "mount ~/projects/keys/server.pem: blocked component server.pem");
  EXPECT_EQ(Refusal(allowlist, "~/projects/keys"),
            "mount ~/projects/keys: contains blocked entry server.pem");
  EXPECT_EQ(Refusal(allowlist, "~/projects/app"), "mount ~/projects/app: blocked component app");
}

TEST_F(MountAllowlistTest, RefusesBadNamesAndRelativePaths) {
  MountAllowlist allowlist = Parse(R"({"allowedRoots":[{"path":"~/projects"}]})");
  auto bad_name = allowlist.Check({"~/projects/app", "../escape", false}, true);
  EXPECT_EQ(bad_name.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_name.status().message(), "mount ~/projects/app: invalid name \"../escape\"");
  auto relative = allowlist.Check({"projects/app", "app", false}, true);
  EXPECT_EQ(relative.status().message(), "mount projects/app: path is not absolute");
}

TEST_F(MountAllowlistTest, MalformedFileIsAnError) {
  std::string path = root_.path() + "/allow.json";
  std::ofstream(path) << "{\"allowedRoots\": 3}";
  auto allowlist = MountAllowlist::Load(path, {});
  EXPECT_EQ(allowlist.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(allowlist.status().message(),
            "parse mount allowlist " + path + ": allowedRoots is not an array");
}

}  // namespace
}  // namespace clawdie::broker
