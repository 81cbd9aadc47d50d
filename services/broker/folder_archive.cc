#include "services/broker/folder_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "services/broker/unique_fd.h"

namespace clawdie::broker {
namespace {

// Folders nested deeper than this below the copied folder are refused.
constexpr int kMaxDepth = 64;
constexpr size_t kBlockBytes = 64 * 1024;

absl::Status ErrnoError(const std::string& operation, const std::string& object) {
  int saved = errno;
  std::string text = operation + " " + object + ": " + strerror(saved);
  if (saved == ENOENT) return absl::NotFoundError(text);
  if (saved == EACCES || saved == EPERM) return absl::PermissionDeniedError(text);
  if (saved == ENOSPC || saved == EDQUOT) return absl::ResourceExhaustedError(text);
  return absl::InternalError(text);
}

int64_t Nanos(const struct timespec& time) {
  return int64_t{time.tv_sec} * 1000000000 + time.tv_nsec;
}

// Why an entry of this type may not cross; empty for regular files and folders.
std::string TypeRefusal(mode_t type) {
  if (S_ISREG(type) || S_ISDIR(type)) return "";
  if (S_ISLNK(type)) return "symbolic link refused";
  if (S_ISCHR(type) || S_ISBLK(type)) return "device file refused";
  if (S_ISFIFO(type)) return "FIFO refused";
  if (S_ISSOCK(type)) return "socket refused";
  return "unknown file type refused";
}

std::string JoinPath(const std::vector<std::string>& parts, size_t count) {
  std::string path;
  for (size_t i = 0; i < count && i < parts.size(); ++i) path += (i == 0 ? "" : "/") + parts[i];
  return path;
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  for (size_t start = 0; start <= path.size();) {
    size_t slash = std::min(path.find('/', start), path.size());
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

// The components of archive path `name` below `prefix`, or false when the
// path is absolute, holds "..", or lies outside the prefix.
bool SplitBelowPrefix(const std::string& name, const std::string& prefix,
                      std::vector<std::string>* parts) {
  if (name.empty() || name[0] == '/') return false;
  std::vector<std::string> kept;
  for (const std::string& part : SplitPath(name)) {
    if (part == "..") return false;
    if (!part.empty() && part != ".") kept.push_back(part);
  }
  if (kept.empty() || kept[0] != prefix) return false;
  parts->assign(kept.begin() + 1, kept.end());
  return true;
}

absl::StatusOr<std::vector<std::string>> SortedNames(int dir_fd, const std::string& path) {
  // fdopendir takes over the descriptor it is given.
  int own_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = own_fd >= 0 ? ::fdopendir(own_fd) : nullptr;
  if (dir == nullptr) {
    absl::Status status = ErrnoError("list folder", path);
    if (own_fd >= 0) ::close(own_fd);
    return status;
  }
  std::vector<std::string> names;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status WriteFileData(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write file", path);
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

FolderArchiveWriter::FolderArchiveWriter(struct archive* archive, int64_t max_data_bytes)
    : archive_(archive), max_data_bytes_(max_data_bytes), started_(::time(nullptr)) {}

FolderArchiveWriter::~FolderArchiveWriter() { archive_write_free(archive_); }

absl::StatusOr<std::unique_ptr<FolderArchiveWriter>> FolderArchiveWriter::Open(
    int fd, int64_t max_data_bytes) {
  struct archive* archive = archive_write_new();
  if (archive == nullptr) return absl::ResourceExhaustedError("start archive: out of memory");
  std::unique_ptr<FolderArchiveWriter> writer(new FolderArchiveWriter(archive, max_data_bytes));
  if (archive_write_set_format_pax_restricted(archive) != ARCHIVE_OK ||
      archive_write_open_fd(archive, fd) != ARCHIVE_OK) {
    return absl::InternalError(std::string("start archive: ") + archive_error_string(archive));
  }
  return writer;
}

absl::Status FolderArchiveWriter::ArchiveError(const std::string& path) {
  const char* cause = archive_error_string(archive_);
  return absl::InternalError("write archive " + path + ": " + (cause ? cause : "unknown error"));
}

void FolderArchiveWriter::Refuse(const std::string& path, const std::string& reason) {
  if (refused_ != nullptr) refused_->push_back(path + ": " + reason);
}

void FolderArchiveWriter::Record(const std::string& relative, const struct stat& info) {
  if (manifest_ == nullptr || relative.empty()) return;
  CopiedEntry& entry = (*manifest_)[relative];
  entry.directory = S_ISDIR(info.st_mode);
  entry.size = entry.directory ? 0 : info.st_size;
  entry.mtime_seconds = info.st_mtime;
  entry.mtime_trusted = info.st_mtime < started_;
  entry.device = info.st_dev;
  entry.inode = info.st_ino;
  entry.host_mtime_nanos = Nanos(info.st_mtim);
}

absl::Status FolderArchiveWriter::WriteHeader(const std::string& path, mode_t type, mode_t mode,
                                              int64_t size, int64_t mtime) {
  mode_t permissions = mode & 0777;
  if (owner_.read_only) permissions &= ~mode_t{0222};
  struct archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname(entry, path.c_str());
  archive_entry_set_filetype(entry, type == S_IFDIR ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm(entry, permissions);
  archive_entry_set_uid(entry, owner_.uid);
  archive_entry_set_gid(entry, owner_.gid);
  archive_entry_set_size(entry, size);
  archive_entry_set_mtime(entry, mtime, 0);
  int result = archive_write_header(archive_, entry);
  archive_entry_free(entry);
  return result >= ARCHIVE_WARN ? absl::OkStatus() : ArchiveError(path);
}

absl::Status FolderArchiveWriter::AddFolder(const std::string& host_dir, const std::string& prefix,
                                            const ArchiveOwnership& owner, CopyManifest* manifest,
                                            std::vector<std::string>* refused) {
  UniqueFd dir(::open(host_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid() && (errno == ELOOP || errno == ENOTDIR)) {
    return absl::FailedPreconditionError("open folder " + host_dir +
                                         ": not a directory (symlinks are not followed)");
  }
  if (!dir.valid()) return ErrnoError("open folder", host_dir);
  struct stat info = {};
  if (::fstat(dir.get(), &info) != 0) return ErrnoError("stat folder", host_dir);

  owner_ = owner;
  manifest_ = manifest;
  refused_ = refused;
  absl::Status status = WriteHeader(prefix, S_IFDIR, info.st_mode, 0, info.st_mtime);
  if (status.ok()) status = AddChildren(dir.get(), prefix, "", 0);
  manifest_ = nullptr;
  refused_ = nullptr;
  return status;
}

absl::Status FolderArchiveWriter::AddChildren(int dir_fd, const std::string& path,
                                              const std::string& relative, int depth) {
  auto names = SortedNames(dir_fd, path);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    std::string child_path = path + "/" + name;
    std::string child_relative = relative.empty() ? name : relative + "/" + name;
    struct stat info = {};
    if (::fstatat(dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      Refuse(child_path, std::string("stat: ") + strerror(errno));
      continue;
    }
    if (std::string refusal = TypeRefusal(info.st_mode); !refusal.empty()) {
      Refuse(child_path, refusal);
      continue;
    }
    if (S_ISREG(info.st_mode)) {
      if (auto status = AddFile(dir_fd, name, info, child_path, child_relative); !status.ok()) {
        return status;
      }
      continue;
    }
    if (depth + 1 >= kMaxDepth) {
      Refuse(child_path, "nested too deep");
      continue;
    }
    // Opened without following: what was checked above may have been swapped for a link.
    UniqueFd child(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child.valid() || ::fstat(child.get(), &info) != 0) {
      Refuse(child_path, std::string("open: ") + strerror(errno));
      continue;
    }
    if (auto status = WriteHeader(child_path, S_IFDIR, info.st_mode, 0, info.st_mtime);
        !status.ok()) {
      return status;
    }
    Record(child_relative, info);
    if (auto status = AddChildren(child.get(), child_path, child_relative, depth + 1);
        !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status FolderArchiveWriter::AddFile(int dir_fd, const std::string& name,
                                          const struct stat& listed, const std::string& path,
                                          const std::string& relative) {
  // A second name for a file may point at one outside the folder.
  if (listed.st_nlink > 1) {
    Refuse(path, "hard link refused");
    return absl::OkStatus();
  }
  UniqueFd file(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  struct stat info = {};
  if (!file.valid() || ::fstat(file.get(), &info) != 0) {
    Refuse(path, std::string("open: ") + strerror(errno));
    return absl::OkStatus();
  }
  if (!S_ISREG(info.st_mode) || info.st_nlink > 1 || info.st_ino != listed.st_ino) {
    Refuse(path, "changed while being copied");
    return absl::OkStatus();
  }
  if (data_bytes_ + info.st_size > max_data_bytes_) {
    return absl::ResourceExhaustedError("copy " + path + ": more than " +
                                        std::to_string(max_data_bytes_) + " bytes to copy");
  }

  if (auto status = WriteHeader(path, S_IFREG, info.st_mode, info.st_size, info.st_mtime);
      !status.ok()) {
    return status;
  }
  // A file that shrank meanwhile is padded with zeros by libarchive; growth is cut off.
  char buffer[kBlockBytes];
  for (int64_t left = info.st_size; left > 0;) {
    ssize_t n = ::read(file.get(), buffer, std::min<int64_t>(left, sizeof(buffer)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read file", path);
    if (n == 0) break;
    if (archive_write_data(archive_, buffer, static_cast<size_t>(n)) < 0) return ArchiveError(path);
    left -= n;
  }
  if (archive_write_finish_entry(archive_) < ARCHIVE_WARN) return ArchiveError(path);
  data_bytes_ += info.st_size;
  Record(relative, info);
  return absl::OkStatus();
}

absl::Status FolderArchiveWriter::AddDirectory(const std::string& path, mode_t mode,
                                               const ArchiveOwnership& owner) {
  owner_ = owner;
  return WriteHeader(path, S_IFDIR, mode, 0, started_);
}

absl::Status FolderArchiveWriter::Finish() {
  return archive_write_close(archive_) == ARCHIVE_OK ? absl::OkStatus() : ArchiveError("end");
}

namespace {

// Reads one archive into one host folder; see ExtractFolderArchive.
class FolderExtractor {
 public:
  FolderExtractor(int root_fd, const ExtractOptions& options)
      : root_fd_(root_fd), options_(options) {}

  absl::Status Run(struct archive* archive) {
    while (true) {
      struct archive_entry* entry = nullptr;
      int result = archive_read_next_header(archive, &entry);
      if (result == ARCHIVE_EOF) return absl::OkStatus();
      if (result < ARCHIVE_WARN) return ReadError(archive, "");
      if (auto status = Extract(archive, entry); !status.ok()) return status;
    }
  }

  // Deletes what was copied in, is not in the archive and is unchanged on the host.
  void DeleteRemoved();

  ExtractReport report;

 private:
  absl::Status Extract(struct archive* archive, struct archive_entry* entry);
  UniqueFd OpenFolder(const std::vector<std::string>& parts, size_t count, bool create,
                      std::string* refusal);
  void MakeFolder(int parent_fd, const std::string& leaf, const std::string& name,
                  struct archive_entry* entry);
  absl::Status WriteFile(struct archive* archive, int parent_fd, const std::string& leaf,
                         const std::string& relative, const std::string& name,
                         struct archive_entry* entry);
  absl::Status CopyData(struct archive* archive, int fd, int64_t size, const std::string& name);
  absl::Status FinishFile(int fd, struct archive_entry* entry, const std::string& name);
  bool UnchangedInSandbox(const std::string& relative, struct archive_entry* entry) const;

  static absl::Status ReadError(struct archive* archive, const std::string& name) {
    const char* cause = archive_error_string(archive);
    return absl::DataLossError("read archive" + (name.empty() ? "" : " " + name) + ": " +
                               (cause ? cause : "unknown error"));
  }

  void Refuse(const std::string& name, const std::string& reason) {
    report.refused.push_back(name + ": " + reason);
  }

  const int root_fd_;
  const ExtractOptions& options_;
  int64_t written_bytes_ = 0;
  int temp_counter_ = 0;
  // Relative paths the archive holds (refused ones too) and their parents.
  std::set<std::string> seen_;
};

absl::Status FolderExtractor::Extract(struct archive* archive, struct archive_entry* entry) {
  const char* pathname = archive_entry_pathname(entry);
  std::string name = pathname != nullptr ? pathname : "";
  std::vector<std::string> parts;
  if (!SplitBelowPrefix(name, options_.prefix, &parts)) {
    Refuse(name, "leaves the folder");
    return absl::OkStatus();
  }
  for (size_t count = 1; count <= parts.size(); ++count) seen_.insert(JoinPath(parts, count));

  // Unread entry data is skipped by the next archive_read_next_header.
  if (archive_entry_hardlink(entry) != nullptr) {
    Refuse(name, "hard link refused");
    return absl::OkStatus();
  }
  mode_t type = archive_entry_filetype(entry);
  if (std::string refusal = TypeRefusal(type); !refusal.empty()) {
    Refuse(name, refusal);
    return absl::OkStatus();
  }
  if (parts.empty()) {
    if (type != AE_IFDIR) Refuse(name, "not a folder");
    return absl::OkStatus();
  }

  std::string refusal;
  UniqueFd parent = OpenFolder(parts, parts.size() - 1, /*create=*/true, &refusal);
  if (!parent.valid()) {
    Refuse(name, refusal);
    return absl::OkStatus();
  }
  if (type == AE_IFDIR) {
    MakeFolder(parent.get(), parts.back(), name, entry);
    return absl::OkStatus();
  }
  return WriteFile(archive, parent.get(), parts.back(), JoinPath(parts, parts.size()), name, entry);
}

UniqueFd FolderExtractor::OpenFolder(const std::vector<std::string>& parts, size_t count,
                                     bool create, std::string* refusal) {
  UniqueFd current(::openat(root_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (size_t i = 0; i < count && current.valid(); ++i) {
    const char* part = parts[i].c_str();
    bool made = create && ::mkdirat(current.get(), part, 0750) == 0;
    UniqueFd next(::openat(current.get(), part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) {
      *refusal = JoinPath(parts, i + 1) + (errno == ELOOP || errno == ENOTDIR
                                               ? " is not a folder on the host (symlinks are "
                                                 "not followed)"
                                               : ": " + std::string(strerror(errno)));
      return UniqueFd();
    }
    if (made && options_.set_owner && ::fchown(next.get(), options_.uid, options_.gid) != 0) {
      *refusal = JoinPath(parts, i + 1) + ": chown: " + strerror(errno);
      return UniqueFd();
    }
    current = std::move(next);
  }
  return current;
}

void FolderExtractor::MakeFolder(int parent_fd, const std::string& leaf, const std::string& name,
                                 struct archive_entry* entry) {
  mode_t mode = (archive_entry_perm(entry) & 0777) | 0700;
  if (::mkdirat(parent_fd, leaf.c_str(), mode) == 0) {
    UniqueFd made(::openat(parent_fd, leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    if (options_.set_owner && made.valid()) {
      if (::fchown(made.get(), options_.uid, options_.gid) != 0) {
        Refuse(name, std::string("chown: ") + strerror(errno));
      }
    }
    return;
  }
  struct stat info = {};
  if (errno != EEXIST) {
    Refuse(name, std::string("create folder: ") + strerror(errno));
  } else if (::fstatat(parent_fd, leaf.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0 ||
             !S_ISDIR(info.st_mode)) {
    Refuse(name, "exists on the host and is not a folder");
  }
}

bool FolderExtractor::UnchangedInSandbox(const std::string& relative,
                                         struct archive_entry* entry) const {
  if (options_.copied_in == nullptr) return false;
  auto copied = options_.copied_in->find(relative);
  if (copied == options_.copied_in->end() || copied->second.directory) return false;
  return copied->second.mtime_trusted && copied->second.size == archive_entry_size(entry) &&
         copied->second.mtime_seconds == archive_entry_mtime(entry);
}

absl::Status FolderExtractor::WriteFile(struct archive* archive, int parent_fd,
                                        const std::string& leaf, const std::string& relative,
                                        const std::string& name, struct archive_entry* entry) {
  if (UnchangedInSandbox(relative, entry)) return absl::OkStatus();
  struct stat existing = {};
  if (::fstatat(parent_fd, leaf.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0 &&
      !S_ISREG(existing.st_mode)) {
    Refuse(name, "exists on the host and is not a regular file");
    return absl::OkStatus();
  }
  int64_t size = archive_entry_size(entry);
  if (size < 0 || written_bytes_ + size > options_.max_bytes) {
    return absl::ResourceExhaustedError("copy " + name + ": more than " +
                                        std::to_string(options_.max_bytes) + " bytes to write");
  }

  std::string temp;
  UniqueFd out;
  while (!out.valid()) {
    temp = ".clawdie-copy-" + std::to_string(::getpid()) + "-" + std::to_string(temp_counter_++);
    out.Reset(::openat(parent_fd, temp.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out.valid() && errno != EEXIST) return ErrnoError("create file", name);
  }
  absl::Status status = CopyData(archive, out.get(), size, name);
  if (status.ok()) status = FinishFile(out.get(), entry, name);
  // rename replaces the directory entry itself: a host hard link is cut, not written through.
  if (status.ok() && ::renameat(parent_fd, temp.c_str(), parent_fd, leaf.c_str()) != 0) {
    status = ErrnoError("rename file", name);
  }
  if (!status.ok()) {
    ::unlinkat(parent_fd, temp.c_str(), 0);
    return status;
  }
  report.written.push_back(relative);
  return absl::OkStatus();
}

absl::Status FolderExtractor::CopyData(struct archive* archive, int fd, int64_t size,
                                       const std::string& name) {
  char buffer[kBlockBytes];
  int64_t copied = 0;
  while (true) {
    la_ssize_t n = archive_read_data(archive, buffer, sizeof(buffer));
    if (n < 0) return ReadError(archive, name);
    if (n == 0) break;
    copied += n;
    if (copied > size)
      return absl::DataLossError("read archive " + name + ": longer than its size");
    if (auto status = WriteFileData(fd, buffer, static_cast<size_t>(n), name); !status.ok()) {
      return status;
    }
  }
  written_bytes_ += copied;
  return absl::OkStatus();
}

absl::Status FolderExtractor::FinishFile(int fd, struct archive_entry* entry,
                                         const std::string& name) {
  if (::fchmod(fd, archive_entry_perm(entry) & 0777) != 0) return ErrnoError("chmod file", name);
  if (options_.set_owner && ::fchown(fd, options_.uid, options_.gid) != 0) {
    return ErrnoError("chown file", name);
  }
  struct timespec times[2] = {{0, UTIME_OMIT}, {archive_entry_mtime(entry), 0}};
  if (::futimens(fd, times) != 0) return ErrnoError("set time of file", name);
  return absl::OkStatus();
}

void FolderExtractor::DeleteRemoved() {
  if (options_.copied_in == nullptr) return;
  // Reverse order visits a folder's entries before the folder itself.
  for (auto it = options_.copied_in->rbegin(); it != options_.copied_in->rend(); ++it) {
    const auto& [relative, copied] = *it;
    if (seen_.count(relative) != 0) continue;
    std::vector<std::string> parts = SplitPath(relative);
    std::string ignored;
    UniqueFd parent = OpenFolder(parts, parts.size() - 1, /*create=*/false, &ignored);
    struct stat info = {};
    if (!parent.valid() ||
        ::fstatat(parent.get(), parts.back().c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    // Only what is still exactly what was copied in: a host change made meanwhile stays.
    bool same = info.st_dev == copied.device && info.st_ino == copied.inode &&
                (copied.directory ? S_ISDIR(info.st_mode)
                                  : S_ISREG(info.st_mode) && info.st_size == copied.size &&
                                        Nanos(info.st_mtim) == copied.host_mtime_nanos);
    int flags = copied.directory ? AT_REMOVEDIR : 0;
    if (same && ::unlinkat(parent.get(), parts.back().c_str(), flags) == 0) {
      report.deleted.push_back(relative);
    }
  }
}

}  // namespace

absl::StatusOr<ExtractReport> ExtractFolderArchive(int fd, const std::string& host_dir,
                                                   const ExtractOptions& options) {
  UniqueFd root(::open(host_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root.valid()) return ErrnoError("open folder", host_dir);
  struct archive* archive = archive_read_new();
  if (archive == nullptr) return absl::ResourceExhaustedError("read archive: out of memory");
  archive_read_support_format_tar(archive);

  FolderExtractor extractor(root.get(), options);
  absl::Status status;
  if (archive_read_open_fd(archive, fd, kBlockBytes) != ARCHIVE_OK) {
    status = absl::DataLossError(std::string("read archive: ") + archive_error_string(archive));
  } else {
    status = extractor.Run(archive);
  }
  archive_read_free(archive);
  if (!status.ok()) return status;
  extractor.DeleteRemoved();
  return std::move(extractor.report);
}

}  // namespace clawdie::broker
