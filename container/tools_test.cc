#include "container/tools.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "gtest/gtest.h"

namespace clawdie::agent {
namespace {

namespace fs = std::filesystem;

// True once `pid` no longer runs: it is gone, or a zombie its new parent has not reaped yet
// (whether and when PID 1 reaps orphans depends on the machine, not on the tool).
bool NoLongerRuns(pid_t pid) {
  if (kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t name_end = text.rfind(')');
  return name_end != std::string::npos && name_end + 2 < text.size() && text[name_end + 2] == 'Z';
}
using nlohmann::json;

class ToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ctt-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name) << text;
  }
  std::string Read(const std::string& name) {
    std::ifstream in(dir_ / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  ToolOutcome Run(const std::string& name, const json& input, BuiltinToolLimits limits = {}) {
    return *BuiltinTools(dir_, limits).Run(name, input);
  }

  fs::path dir_;
};

TEST_F(ToolsTest, BashRunsInWorkspaceAndReportsExitCode) {
  ToolOutcome out = Run("bash", {{"command", "pwd; echo oops >&2; exit 3"}});
  EXPECT_EQ(out.content, dir_.string() + "\noops\n[exit code 3]\n");
  EXPECT_TRUE(out.is_error);
}

TEST_F(ToolsTest, BashOutputCapIsReported) {
  BuiltinToolLimits limits;
  limits.output_cap = 10;
  ToolOutcome out = Run("bash", {{"command", "printf '%s' 0123456789abcdefghij"}}, limits);
  EXPECT_EQ(out.content,
            "0123456789\n[output truncated: showing the first 10 of 20 bytes]\n[exit code 0]\n");
  EXPECT_FALSE(out.is_error);
}

TEST_F(ToolsTest, BashTimeoutKillsTheWholeProcessGroup) {
  BuiltinToolLimits limits;
  limits.bash_timeout = std::chrono::seconds(1);
  auto started = std::chrono::steady_clock::now();
  ToolOutcome out =
      Run("bash", {{"command", "echo start; sleep 30 & echo $! > bgpid; sleep 30"}}, limits);
  auto took = std::chrono::steady_clock::now() - started;

  EXPECT_EQ(out.content, "start\n[timed out after 1 s; the command's process group was killed]\n");
  EXPECT_TRUE(out.is_error);
  EXPECT_LT(took, std::chrono::seconds(5));
  // The background sleep was in the same group, so it was killed too.
  pid_t background = std::stoi(Read("bgpid"));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = NoLongerRuns(background);
    if (!gone) usleep(20000);
  }
  EXPECT_TRUE(gone);
}

TEST_F(ToolsTest, BashReturnsWhenShellExitsEvenIfABackgroundJobHoldsThePipe) {
  auto started = std::chrono::steady_clock::now();
  ToolOutcome out = Run("bash", {{"command", "sleep 20 & echo done"}});
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(out.content, "done\n[exit code 0]\n");
}

TEST_F(ToolsTest, ReadFileWholeAndLineRange) {
  Write("a.txt", "one\ntwo\nthree\n");
  EXPECT_EQ(Run("read_file", {{"path", "a.txt"}}).content, "one\ntwo\nthree\n");
  EXPECT_EQ(
      Run("read_file", {{"path", (dir_ / "a.txt").string()}, {"offset", 2}, {"limit", 1}}).content,
      "two\n");
  ToolOutcome missing = Run("read_file", {{"path", "nope.txt"}});
  EXPECT_TRUE(missing.is_error);
  EXPECT_EQ(missing.content.rfind("read " + (dir_ / "nope.txt").string() + ": ", 0), 0u);
}

TEST_F(ToolsTest, WriteFileCreatesParentDirectories) {
  ToolOutcome out = Run("write_file", {{"path", "deep/er/b.txt"}, {"content", "hello"}});
  EXPECT_FALSE(out.is_error);
  EXPECT_EQ(Read("deep/er/b.txt"), "hello");
}

TEST_F(ToolsTest, EditFileReplacesExactlyOneMatch) {
  Write("c.txt", "alpha beta gamma");
  ToolOutcome out =
      Run("edit_file", {{"path", "c.txt"}, {"old_string", "beta"}, {"new_string", "BETA"}});
  EXPECT_EQ(out.content, "replaced 1 occurrence in c.txt");
  EXPECT_EQ(Read("c.txt"), "alpha BETA gamma");
}

TEST_F(ToolsTest, EditFileRefusesAmbiguousMatchUnlessReplaceAll) {
  Write("d.txt", "x = 1\nx = 1\n");
  ToolOutcome refused =
      Run("edit_file", {{"path", "d.txt"}, {"old_string", "x = 1"}, {"new_string", "x = 2"}});
  EXPECT_TRUE(refused.is_error);
  EXPECT_EQ(refused.content,
            "edit_file d.txt: old_string matches 2 times; include more surrounding text to make it "
            "unique, or set replace_all");
  EXPECT_EQ(Read("d.txt"), "x = 1\nx = 1\n");

  ToolOutcome all = Run(
      "edit_file",
      {{"path", "d.txt"}, {"old_string", "x = 1"}, {"new_string", "x = 2"}, {"replace_all", true}});
  EXPECT_EQ(all.content, "replaced 2 occurrences in d.txt");
  EXPECT_EQ(Read("d.txt"), "x = 2\nx = 2\n");
}

TEST_F(ToolsTest, EditFileMissingTextIsAnError) {
  Write("e.txt", "abc");
  ToolOutcome out =
      Run("edit_file", {{"path", "e.txt"}, {"old_string", "zzz"}, {"new_string", "y"}});
  EXPECT_TRUE(out.is_error);
  EXPECT_EQ(out.content, "edit_file e.txt: old_string not found");
}

TEST_F(ToolsTest, ListFilesMarksDirectoriesAndSorts) {
  Write("b.txt", "");
  Write("a/inner.txt", "");
  EXPECT_EQ(Run("list_files", json::object()).content, "a/\nb.txt\n");
  EXPECT_EQ(Run("list_files", {{"recursive", true}}).content, "a/\na/inner.txt\nb.txt\n");
}

TEST_F(ToolsTest, GrepFindsLinesWithNumbers) {
  Write("notes/x.md", "Dentist at 14:30\nnothing\ndentist again\n");
  Write("y.md", "no match here\n");
  EXPECT_EQ(Run("grep", {{"pattern", "dentist"}, {"ignore_case", true}}).content,
            "notes/x.md:1: Dentist at 14:30\nnotes/x.md:3: dentist again\n");
  EXPECT_EQ(Run("grep", {{"pattern", "zzz"}}).content, "no matches\n");
  EXPECT_TRUE(Run("grep", {{"pattern", "("}}).is_error);
}

TEST(ToolSpecsTest, RegisterGroupOnlyForMainAndScheduleTaskDocumentsFormats) {
  auto names = [](const std::vector<ToolSpec>& specs) {
    std::vector<std::string> out;
    for (const ToolSpec& spec : specs) out.push_back(spec.name);
    return out;
  };
  EXPECT_EQ(names(ClawdieToolSpecs(false)).size(), 6u);
  EXPECT_EQ(names(ClawdieToolSpecs(true)).back(), "register_group");
  std::string schedule = ClawdieToolSpecs(false)[1].input_schema.dump();
  EXPECT_NE(schedule.find("0 9 * * 1-5"), std::string::npos);
  EXPECT_NE(schedule.find("YYYY-MM-DDTHH:MM:SS"), std::string::npos);
  EXPECT_TRUE(IsClawdieTool("cancel_task"));
  EXPECT_FALSE(IsClawdieTool("bash"));
}

}  // namespace
}  // namespace clawdie::agent
