// The tar filtering of remote Docker workspaces, on real folders and archives
// built here with libarchive: what crosses into the sandbox, what comes back,
// and every entry that is refused in either direction.
#include "services/broker/folder_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "services/broker/broker_test_util.h"
#include "services/broker/unique_fd.h"

namespace clawdie::broker::testing {
namespace {

UniqueFd TempFile() {
  char name[] = "/tmp/clb-archive-XXXXXX";
  UniqueFd fd(::mkstemp(name));
  ::unlink(name);
  return fd;
}

// The entries of an archive as read back: "<type> <path> <uid>:<gid> <mode> [<content>]"
// (libarchive names folders with a trailing slash).
std::vector<std::string> ListArchive(int fd) {
  ::lseek(fd, 0, SEEK_SET);
  struct archive* archive = archive_read_new();
  archive_read_support_format_tar(archive);
  std::vector<std::string> entries;
  if (archive_read_open_fd(archive, fd, 10240) != ARCHIVE_OK) return {"unreadable"};
  struct archive_entry* entry = nullptr;
  while (archive_read_next_header(archive, &entry) == ARCHIVE_OK) {
    bool dir = archive_entry_filetype(entry) == AE_IFDIR;
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%03o", archive_entry_perm(entry));
    std::string line = std::string(dir ? "d " : "f ") + archive_entry_pathname(entry) + " " +
                       std::to_string(archive_entry_uid(entry)) + ":" +
                       std::to_string(archive_entry_gid(entry)) + " " + mode;
    if (!dir) {
      std::string content(static_cast<size_t>(archive_entry_size(entry)), '\0');
      archive_read_data(archive, content.data(), content.size());
      line += " " + content;
    }
    entries.push_back(line);
  }
  archive_read_free(archive);
  return entries;
}

// Builds archives entry by entry, the way a daemon (or a hostile one) could send them.
class ArchiveBuilder {
 public:
  ArchiveBuilder() : fd_(TempFile()), archive_(archive_write_new()) {
    archive_write_set_format_pax_restricted(archive_);
    archive_write_open_fd(archive_, fd_.get());
  }
  ~ArchiveBuilder() { archive_write_free(archive_); }

  ArchiveBuilder& Dir(const std::string& path) { return Add(path, AE_IFDIR, "", 0755); }
  ArchiveBuilder& File(const std::string& path, const std::string& content, int64_t mtime = 1000) {
    return Add(path, AE_IFREG, content, 0644, mtime);
  }
  ArchiveBuilder& Symlink(const std::string& path, const std::string& target) {
    struct archive_entry* entry = NewEntry(path, AE_IFLNK, 0777, 1000);
    archive_entry_set_symlink(entry, target.c_str());
    return Write(entry, "");
  }
  ArchiveBuilder& Hardlink(const std::string& path, const std::string& target) {
    struct archive_entry* entry = NewEntry(path, AE_IFREG, 0644, 1000);
    archive_entry_set_hardlink(entry, target.c_str());
    return Write(entry, "");
  }
  ArchiveBuilder& Device(const std::string& path) {
    struct archive_entry* entry = NewEntry(path, AE_IFCHR, 0666, 1000);
    archive_entry_set_rdevmajor(entry, 1);
    archive_entry_set_rdevminor(entry, 3);
    return Write(entry, "");
  }
  ArchiveBuilder& Fifo(const std::string& path) {
    return Write(NewEntry(path, AE_IFIFO, 0644, 1000), "");
  }

  // Ends the archive and returns its descriptor, rewound.
  int Finish() {
    archive_write_close(archive_);
    ::lseek(fd_.get(), 0, SEEK_SET);
    return fd_.get();
  }

 private:
  struct archive_entry* NewEntry(const std::string& path, mode_t type, mode_t mode, int64_t mtime) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, path.c_str());
    archive_entry_set_filetype(entry, type);
    archive_entry_set_perm(entry, mode);
    archive_entry_set_mtime(entry, mtime, 0);
    return entry;
  }
  ArchiveBuilder& Add(const std::string& path, mode_t type, const std::string& content, mode_t mode,
                      int64_t mtime = 1000) {
    struct archive_entry* entry = NewEntry(path, type, mode, mtime);
    archive_entry_set_size(entry, static_cast<int64_t>(content.size()));
    return Write(entry, content);
  }
  ArchiveBuilder& Write(struct archive_entry* entry, const std::string& content) {
    EXPECT_EQ(archive_write_header(archive_, entry), ARCHIVE_OK) << archive_error_string(archive_);
    if (!content.empty()) archive_write_data(archive_, content.data(), content.size());
    archive_entry_free(entry);
    return *this;
  }

  UniqueFd fd_;
  struct archive* archive_;
};

class FolderArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = root_.path() + "/group";
    outside_ = root_.path() + "/outside";
    std::filesystem::create_directories(folder_);
    std::filesystem::create_directories(outside_);
    WriteText(outside_ + "/secret", "outside");
  }

  // Copies folder_ into an archive as "group".
  absl::Status CopyIn(int fd, CopyManifest* manifest, std::vector<std::string>* refused,
                      int64_t max_bytes = 1 << 20) {
    auto writer = FolderArchiveWriter::Open(fd, max_bytes);
    if (!writer.ok()) return writer.status();
    absl::Status status =
        (*writer)->AddFolder(folder_, "group", {65534, 65533, false}, manifest, refused);
    return status.ok() ? (*writer)->Finish() : status;
  }

  absl::StatusOr<ExtractReport> CopyOut(int fd, const CopyManifest* manifest = nullptr) {
    ExtractOptions options;
    options.prefix = "group";
    options.copied_in = manifest;
    options.max_bytes = 1 << 20;
    return ExtractFolderArchive(fd, folder_, options);
  }

  TempDir root_;
  std::string folder_;
  std::string outside_;
};

TEST_F(FolderArchiveTest, CopyInSendsFilesAndFoldersWithTheSandboxOwner) {
  std::filesystem::create_directories(folder_ + "/notes");
  WriteText(folder_ + "/CLAUDE.md", "memory");
  WriteText(folder_ + "/notes/a.md", "alpha");
  ::chmod((folder_ + "/notes/a.md").c_str(), 0600);
  ::chmod((folder_ + "/notes").c_str(), 0750);
  ::chmod(folder_.c_str(), 0750);
  UniqueFd fd = TempFile();
  CopyManifest manifest;
  std::vector<std::string> refused;

  ASSERT_TRUE(CopyIn(fd.get(), &manifest, &refused).ok());
  EXPECT_EQ(ListArchive(fd.get()), (std::vector<std::string>{
                                       "d group/ 65534:65533 750",
                                       "f group/CLAUDE.md 65534:65533 644 memory",
                                       "d group/notes/ 65534:65533 750",
                                       "f group/notes/a.md 65534:65533 600 alpha",
                                   }));
  EXPECT_TRUE(refused.empty());
  ASSERT_EQ(manifest.size(), 3u);
  EXPECT_TRUE(manifest["notes"].directory);
  EXPECT_EQ(manifest["notes/a.md"].size, 5);
}

TEST_F(FolderArchiveTest, CopyInRefusesLinksDevicesFifosAndSockets) {
  WriteText(folder_ + "/kept.txt", "kept");
  ASSERT_EQ(::symlink("/etc", (folder_ + "/etc-link").c_str()), 0);
  ASSERT_EQ(::symlink((outside_ + "/secret").c_str(), (folder_ + "/secret-link").c_str()), 0);
  ASSERT_EQ(::link((outside_ + "/secret").c_str(), (folder_ + "/hard").c_str()), 0);
  ASSERT_EQ(::mkfifo((folder_ + "/pipe").c_str(), 0644), 0);
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::string sock_path = folder_ + "/sock";
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path.c_str());
  ASSERT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  bool device = ::geteuid() == 0;
  if (device) {
    struct stat null_device = {};
    ASSERT_EQ(::stat("/dev/null", &null_device), 0);
    ASSERT_EQ(::mknod((folder_ + "/null").c_str(), S_IFCHR | 0666, null_device.st_rdev), 0);
  }
  UniqueFd fd = TempFile();
  CopyManifest manifest;
  std::vector<std::string> refused;

  ASSERT_TRUE(CopyIn(fd.get(), &manifest, &refused).ok());
  EXPECT_EQ(ListArchive(fd.get()), (std::vector<std::string>{
                                       "d group/ 65534:65533 755",
                                       "f group/kept.txt 65534:65533 644 kept",
                                   }));
  std::vector<std::string> expected = {"group/etc-link: symbolic link refused",
                                       "group/hard: hard link refused"};
  if (device) expected.push_back("group/null: device file refused");
  expected.insert(expected.end(),
                  {"group/pipe: FIFO refused", "group/secret-link: symbolic link refused",
                   "group/sock: socket refused"});
  EXPECT_EQ(refused, expected);
  EXPECT_EQ(manifest.size(), 1u);
}

TEST_F(FolderArchiveTest, CopyInOfAReadOnlyFolderClearsWritePermissions) {
  WriteText(folder_ + "/CLAUDE.md", "global");
  ::chmod((folder_ + "/CLAUDE.md").c_str(), 0664);
  ::chmod(folder_.c_str(), 0775);
  UniqueFd fd = TempFile();
  auto writer = FolderArchiveWriter::Open(fd.get(), 1 << 20);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->AddFolder(folder_, "global", {0, 0, true}, nullptr, nullptr).ok());
  ASSERT_TRUE((*writer)->AddDirectory("ipc/input", 0770, {65534, 65534, false}).ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_EQ(ListArchive(fd.get()), (std::vector<std::string>{
                                       "d global/ 0:0 555",
                                       "f global/CLAUDE.md 0:0 444 global",
                                       "d ipc/input/ 65534:65534 770",
                                   }));
}

TEST_F(FolderArchiveTest, CopyInOverTheCapIsResourceExhausted) {
  WriteText(folder_ + "/big", std::string(2048, 'b'));
  UniqueFd fd = TempFile();
  CopyManifest manifest;
  absl::Status status = CopyIn(fd.get(), &manifest, nullptr, 1024);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "copy group/big: more than 1024 bytes to copy");
}

TEST_F(FolderArchiveTest, CopyOutWritesFilesAndFolders) {
  ArchiveBuilder archive;
  archive.Dir("group").File("group/new.txt", "fresh").Dir("group/sub").File("group/sub/b.md", "b");
  auto report = CopyOut(archive.Finish());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->written, (std::vector<std::string>{"new.txt", "sub/b.md"}));
  EXPECT_TRUE(report->refused.empty());
  EXPECT_EQ(ReadText(folder_ + "/new.txt"), "fresh");
  EXPECT_EQ(ReadText(folder_ + "/sub/b.md"), "b");
  struct stat info = {};
  ASSERT_EQ(::stat((folder_ + "/new.txt").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);
  EXPECT_EQ(info.st_mtime, 1000);
}

TEST_F(FolderArchiveTest, CopyOutRefusesLinksDevicesAndPathsLeavingTheFolder) {
  ArchiveBuilder archive;
  archive.Dir("group")
      .Symlink("group/etc", "/etc")
      .File("group/etc/passwd", "through the link")
      .Hardlink("group/shadow", "/etc/shadow")
      .Symlink("group/up", "..")
      .File("group/../outside/secret", "escaped")
      .File("../outside/secret", "escaped")
      .File("/tmp/clb-absolute", "absolute")
      .File("other/x", "other folder")
      .File("group/sub/../../outside/secret", "escaped")
      .Device("group/null")
      .Fifo("group/pipe")
      .File("group/ok.txt", "ok");
  auto report = CopyOut(archive.Finish());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->refused, (std::vector<std::string>{
                                 "group/etc: symbolic link refused",
                                 "group/shadow: hard link refused",
                                 "group/up: symbolic link refused",
                                 "group/../outside/secret: leaves the folder",
                                 "../outside/secret: leaves the folder",
                                 "/tmp/clb-absolute: leaves the folder",
                                 "other/x: leaves the folder",
                                 "group/sub/../../outside/secret: leaves the folder",
                                 "group/null: device file refused",
                                 "group/pipe: FIFO refused",
                             }));
  EXPECT_EQ(report->written, (std::vector<std::string>{"etc/passwd", "ok.txt"}));
  EXPECT_EQ(ReadText(outside_ + "/secret"), "outside");
  EXPECT_FALSE(std::filesystem::exists("/tmp/clb-absolute"));
  EXPECT_FALSE(std::filesystem::is_symlink(folder_ + "/etc"));
  EXPECT_EQ(ReadText(folder_ + "/etc/passwd"), "through the link");
  EXPECT_EQ(ReadText(folder_ + "/ok.txt"), "ok");
}

TEST_F(FolderArchiveTest, CopyOutNeverFollowsAHostSymlink) {
  ASSERT_EQ(::symlink(outside_.c_str(), (folder_ + "/away").c_str()), 0);
  ASSERT_EQ(::symlink((outside_ + "/secret").c_str(), (folder_ + "/secret").c_str()), 0);
  ArchiveBuilder archive;
  archive.Dir("group")
      .File("group/away/secret", "overwritten")
      .Dir("group/away/made")
      .File("group/secret", "overwritten");
  auto report = CopyOut(archive.Finish());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->refused,
            (std::vector<std::string>{
                "group/away/secret: away is not a folder on the host (symlinks are not followed)",
                "group/away/made/: away is not a folder on the host (symlinks are not followed)",
                "group/secret: exists on the host and is not a regular file",
            }));
  EXPECT_TRUE(report->written.empty());
  EXPECT_EQ(ReadText(outside_ + "/secret"), "outside");
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/made"));
  EXPECT_TRUE(std::filesystem::is_symlink(folder_ + "/secret"));
}

TEST_F(FolderArchiveTest, CopyOutReplacesAHostHardLinkInsteadOfWritingThroughIt) {
  ASSERT_EQ(::link((outside_ + "/secret").c_str(), (folder_ + "/linked").c_str()), 0);
  ArchiveBuilder archive;
  archive.Dir("group").File("group/linked", "changed in the sandbox");
  auto report = CopyOut(archive.Finish());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->written, std::vector<std::string>{"linked"});
  EXPECT_EQ(ReadText(folder_ + "/linked"), "changed in the sandbox");
  EXPECT_EQ(ReadText(outside_ + "/secret"), "outside");
}

TEST_F(FolderArchiveTest, RoundTripWritesChangesAndDeletesWhatTheRunDeleted) {
  std::filesystem::create_directories(folder_ + "/old");
  WriteText(folder_ + "/same.txt", "same");
  WriteText(folder_ + "/edited.txt", "before");
  WriteText(folder_ + "/removed.txt", "gone soon");
  WriteText(folder_ + "/old/removed.md", "gone soon");
  WriteText(folder_ + "/host-changed.txt", "v1");
  // Old enough that a write in the sandbox changes the modification second.
  for (const char* name : {"same.txt", "edited.txt", "removed.txt", "host-changed.txt"}) {
    struct timespec times[2] = {{0, UTIME_OMIT}, {1000, 0}};
    ::utimensat(AT_FDCWD, (folder_ + "/" + name).c_str(), times, 0);
  }
  UniqueFd in = TempFile();
  CopyManifest manifest;
  ASSERT_TRUE(CopyIn(in.get(), &manifest, nullptr).ok());
  // The host changes a file the run deleted while the run goes on.
  WriteText(folder_ + "/host-changed.txt", "v2 from the host");

  ArchiveBuilder archive;
  archive.Dir("group")
      .File("group/same.txt", "same", 1000)
      .File("group/edited.txt", "after", 2000)
      .File("group/created.txt", "new", 2000);
  auto report = CopyOut(archive.Finish(), &manifest);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->written, (std::vector<std::string>{"edited.txt", "created.txt"}));
  EXPECT_EQ(report->deleted, (std::vector<std::string>{"removed.txt", "old/removed.md", "old"}));
  EXPECT_EQ(ReadText(folder_ + "/edited.txt"), "after");
  EXPECT_EQ(ReadText(folder_ + "/host-changed.txt"), "v2 from the host");
  EXPECT_EQ(ReadText(folder_ + "/same.txt"), "same");
  EXPECT_FALSE(std::filesystem::exists(folder_ + "/old"));
}

TEST_F(FolderArchiveTest, UnreadableArchiveIsDataLossAndDeletesNothing) {
  WriteText(folder_ + "/keep.txt", "keep");
  UniqueFd in = TempFile();
  CopyManifest manifest;
  ASSERT_TRUE(CopyIn(in.get(), &manifest, nullptr).ok());
  UniqueFd garbage = TempFile();
  std::string junk(1024, 'x');
  ASSERT_EQ(::write(garbage.get(), junk.data(), junk.size()), 1024);
  ::lseek(garbage.get(), 0, SEEK_SET);
  auto report = CopyOut(garbage.get(), &manifest);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadText(folder_ + "/keep.txt"), "keep");
}

TEST_F(FolderArchiveTest, CopyOutOverTheCapIsResourceExhausted) {
  ArchiveBuilder archive;
  archive.Dir("group").File("group/big", std::string(4096, 'b'));
  ExtractOptions options;
  options.prefix = "group";
  options.max_bytes = 1024;
  auto report = ExtractFolderArchive(archive.Finish(), folder_, options);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(report.status().message(), "copy group/big: more than 1024 bytes to write");
  EXPECT_FALSE(std::filesystem::exists(folder_ + "/big"));
}

}  // namespace
}  // namespace clawdie::broker::testing
