// Copying a host folder into a sandbox and its changes back out as a tar
// stream, for sandboxes that cannot share the host's folders (a Docker Engine
// on another machine, see docker_backend.h). Only regular files and folders
// cross, in both directions: symbolic links, hard links, device files, FIFOs
// and sockets are refused, and so is an archive path that is absolute, holds
// "..", or lies outside the folder's prefix. A refused entry is reported and
// skipped, never followed. Host folders are read and written through
// descriptors opened with O_NOFOLLOW, so a symlink on the host is never
// followed either. Tar is read and written with libarchive.
//
// Thread-safety: a FolderArchiveWriter is used by one thread. Two copies must
// not write the same host folder at once (the router runs one agent per group).
#ifndef CLAWDIE_SERVICES_BROKER_FOLDER_ARCHIVE_H_
#define CLAWDIE_SERVICES_BROKER_FOLDER_ARCHIVE_H_

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct archive;

namespace clawdie::broker {

// How an entry looked when it was copied in, to tell on the way back what the
// sandbox changed and whether the host copy is still the one that was sent.
struct CopiedEntry {
  bool directory = false;
  // Size and modification second as written into the archive.
  int64_t size = 0;
  int64_t mtime_seconds = 0;
  // The host file was last modified before the copy's second, so any write in
  // the sandbox gives it a different modification second.
  bool mtime_trusted = false;
  // The host entry's identity at copy time.
  dev_t device = 0;
  ino_t inode = 0;
  int64_t host_mtime_nanos = 0;
};

// The entries copied in, by path relative to the folder ("notes", "notes/a.md").
using CopyManifest = std::map<std::string, CopiedEntry>;

// Owner and permissions given to the entries written into an archive.
struct ArchiveOwnership {
  uid_t uid = 0;
  gid_t gid = 0;
  // Clear every write permission: the sandbox may only read the folder.
  bool read_only = false;
};

// Writes a tar stream (pax) to a file descriptor the caller owns.
class FolderArchiveWriter {
 public:
  // Starts an archive on `fd` (the caller keeps it open until Finish);
  // `max_data_bytes` caps the file content written in total.
  static absl::StatusOr<std::unique_ptr<FolderArchiveWriter>> Open(int fd, int64_t max_data_bytes);
  ~FolderArchiveWriter();

  FolderArchiveWriter(const FolderArchiveWriter&) = delete;
  FolderArchiveWriter& operator=(const FolderArchiveWriter&) = delete;

  // Adds `host_dir` as the folder `prefix` ("group") and every regular file
  // and folder below it. Entries that may not cross are skipped and appended
  // to `refused` as "<prefix>/<path>: <reason>"; what was written is recorded
  // in `manifest`. ResourceExhausted beyond the byte cap; NotFound or
  // FailedPrecondition when `host_dir` is missing or not a folder.
  absl::Status AddFolder(const std::string& host_dir, const std::string& prefix,
                         const ArchiveOwnership& owner, CopyManifest* manifest,
                         std::vector<std::string>* refused);

  // Adds an empty folder entry at `path` ("ipc/input").
  absl::Status AddDirectory(const std::string& path, mode_t mode, const ArchiveOwnership& owner);

  // Writes the end of the archive. Nothing may be added afterwards.
  absl::Status Finish();

 private:
  FolderArchiveWriter(struct archive* archive, int64_t max_data_bytes);
  void Refuse(const std::string& path, const std::string& reason);
  void Record(const std::string& relative, const struct stat& info);
  absl::Status AddChildren(int dir_fd, const std::string& path, const std::string& relative,
                           int depth);
  absl::Status AddFile(int dir_fd, const std::string& name, const struct stat& info,
                       const std::string& path, const std::string& relative);
  absl::Status WriteHeader(const std::string& path, mode_t type, mode_t mode, int64_t size,
                           int64_t mtime);
  absl::Status ArchiveError(const std::string& path);

  struct archive* archive_;
  const int64_t max_data_bytes_;
  int64_t data_bytes_ = 0;
  const time_t started_;
  // Set for the duration of AddFolder.
  ArchiveOwnership owner_;
  CopyManifest* manifest_ = nullptr;
  std::vector<std::string>* refused_ = nullptr;
};

struct ExtractOptions {
  // Every entry must be "<prefix>" or lie below "<prefix>/".
  std::string prefix;
  // What was copied in (may be null). A file it lists that the sandbox left
  // unchanged is not written back; an entry it lists that the archive no
  // longer holds is deleted on the host, unless the host entry changed since.
  const CopyManifest* copied_in = nullptr;
  // Cap of the file content written in total.
  int64_t max_bytes = int64_t{1} << 30;
  // Give created files and folders to this owner (the broker runs as root).
  bool set_owner = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct ExtractReport {
  // Relative paths of the files written, the entries deleted and the archive
  // entries refused ("<archive path>: <reason>"), in archive order.
  std::vector<std::string> written;
  std::vector<std::string> deleted;
  std::vector<std::string> refused;
};

// Reads the tar stream in `fd` into `host_dir`. Regular files are written to
// a temporary name and renamed into place, so a host hard link is replaced,
// never written through. Deletions happen only when the whole archive was
// read. DataLoss for an unreadable archive, ResourceExhausted beyond the byte
// cap, NotFound when `host_dir` is missing; a refused entry is not an error.
absl::StatusOr<ExtractReport> ExtractFolderArchive(int fd, const std::string& host_dir,
                                                   const ExtractOptions& options);

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_FOLDER_ARCHIVE_H_
