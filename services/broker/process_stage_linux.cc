// Mount staging for the bwrap backend when the broker runs as root. bwrap runs as the
// unprivileged sandbox user and resolves every bind source by path, so a group folder below a
// directory only root may enter (a 0700 home, the 0750 run directory) would be out of its reach.
// The forked child, still root, gives itself a private mount namespace, puts a tmpfs at the
// stage root and binds each source there; bwrap then binds from the stage. The mounts vanish
// with the child's namespace: nothing is left on the host, whatever happens to the broker.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "services/broker/process_launcher.h"

namespace clawdie::broker {
namespace {

// "/proc/self/fd/<fd>" into `out` without allocating (we are between fork and exec).
void FdPath(int fd, char (&out)[32]) {
  const char prefix[] = "/proc/self/fd/";
  size_t n = 0;
  for (; prefix[n] != '\0'; ++n) out[n] = prefix[n];
  char digits[12];
  size_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + fd % 10);
    fd /= 10;
  } while (fd > 0 && count < sizeof(digits));
  while (count > 0) out[n++] = digits[--count];
  out[n] = '\0';
}

}  // namespace

bool EnterMountStage(const LaunchOptions& options) {
  if (::unshare(CLONE_NEWNS) != 0) return false;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
  // Open every source before the stage's tmpfs may hide it (a data folder under /tmp), and
  // after unshare: a bind source must be a mount of the namespace that binds it.
  int sources[kMaxStagedMounts];
  size_t count = options.staged_mounts.size();
  for (size_t i = 0; i < count; ++i) {
    sources[i] = ::open(options.staged_mounts[i].source.c_str(), O_PATH | O_CLOEXEC);
    if (sources[i] < 0) return false;
  }
  if (::mount("clawdie-stage", options.stage_root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
              "mode=0755") != 0) {
    return false;
  }
  for (size_t i = 0; i < count; ++i) {
    const StagedMount& staged = options.staged_mounts[i];
    if (staged.directory) {
      if (::mkdir(staged.target.c_str(), 0755) != 0) return false;
    } else {
      int placeholder = ::open(staged.target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (placeholder < 0) return false;
      ::close(placeholder);
    }
    char source[32];
    FdPath(sources[i], source);
    if (::mount(source, staged.target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      return false;
    }
    ::close(sources[i]);
  }
  return true;
}

}  // namespace clawdie::broker
