#include "services/store/store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <future>

#include "common/logging.h"
#include "common/status.h"
#include "services/store/schema.h"

namespace clawdie::store {

struct Store::WriteJob {
  std::function<absl::Status(Database&)> fn;
  absl::Status status;
  std::promise<void> done;
};

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (mkdir(options.data_dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return ErrnoError(errno, "create data directory " + options.data_dir);
  }
  std::string path = options.data_dir + "/clawdie.db";
  std::unique_ptr<Store> store(new Store(options));

  absl::StatusOr<std::unique_ptr<Database>> writer = Database::Open(path);
  if (!writer.ok()) return writer.status();
  store->writer_db_ = std::move(*writer);
  absl::StatusOr<int> version = Migrate(*store->writer_db_);
  if (!version.ok()) return version.status();

  absl::StatusOr<std::unique_ptr<Database>> reader = Database::Open(path);
  if (!reader.ok()) return reader.status();
  store->reader_db_ = std::move(*reader);

  GetLogger("store")->info("opened {} (schema version {})", path, *version);
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

Store::~Store() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

absl::Status Store::Write(const std::function<absl::Status(Database&)>& fn) {
  return WriteEach({fn}).front();
}

std::vector<absl::Status> Store::WriteEach(
    std::vector<std::function<absl::Status(Database&)>> fns) {
  std::vector<std::shared_ptr<WriteJob>> jobs;
  std::vector<std::future<void>> done;
  for (auto& fn : fns) {
    jobs.push_back(std::make_shared<WriteJob>());
    jobs.back()->fn = std::move(fn);
    done.push_back(jobs.back()->done.get_future());
  }
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_) {
      return std::vector<absl::Status>(jobs.size(),
                                       absl::UnavailableError("store write: shutting down"));
    }
    queue_.insert(queue_.end(), jobs.begin(), jobs.end());
  }
  queue_cv_.notify_one();

  std::vector<absl::Status> statuses;
  for (size_t i = 0; i < jobs.size(); ++i) {
    done[i].wait();
    statuses.push_back(jobs[i]->status);
  }
  return statuses;
}

absl::Status Store::Read(const std::function<absl::Status(Database&)>& fn) {
  std::lock_guard<std::mutex> lock(read_mu_);
  return fn(*reader_db_);
}

void Store::WriterLoop() {
  while (true) {
    std::deque<std::shared_ptr<WriteJob>> batch;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
  }
}

void Store::CommitBatch(std::deque<std::shared_ptr<WriteJob>>& batch) {
  Database& db = *writer_db_;
  absl::Status failure = db.Exec("BEGIN IMMEDIATE");

  // Each request in its own savepoint: a refused one is undone alone. SQLite may abort the
  // whole transaction on a full disk or an I/O error; then nothing of the batch is kept.
  size_t ran = 0;
  for (; failure.ok() && ran < batch.size(); ++ran) {
    WriteJob& job = *batch[ran];
    absl::Status status = db.Exec("SAVEPOINT job");
    if (status.ok()) job.status = status = job.fn(db);
    if (sqlite3_get_autocommit(db.handle())) {
      failure = status.ok() ? absl::UnavailableError("store write: transaction aborted") : status;
      break;
    }
    absl::Status end =
        job.status.ok() ? db.Exec("RELEASE job") : db.Exec("ROLLBACK TO job; RELEASE job");
    if (!end.ok()) failure = end;
  }
  if (failure.ok()) failure = db.Exec("COMMIT");

  if (!failure.ok()) {
    GetLogger("store")->error("write batch of {} failed: {}", batch.size(), failure.message());
    if (!sqlite3_get_autocommit(db.handle())) db.Exec("ROLLBACK").IgnoreError();
    // Requests that had not run yet go back to the head of the queue.
    RequeueFront(batch, std::min(ran + 1, batch.size()));
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!failure.ok()) batch[i]->status = failure;
    batch[i]->done.set_value();
  }
}

void Store::RequeueFront(std::deque<std::shared_ptr<WriteJob>>& batch, size_t keep) {
  std::lock_guard<std::mutex> lock(queue_mu_);
  while (batch.size() > keep) {
    queue_.push_front(std::move(batch.back()));
    batch.pop_back();
  }
}

namespace {

// The directory of `path` resolved through symlinks, followed by its last component.
std::string ResolvedParent(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  char resolved[PATH_MAX];
  if (realpath(dir.c_str(), resolved) == nullptr) return path;
  return std::string(resolved) + path.substr(slash);
}

// True when `path` is the database at `db_path` or its -journal, -wal or -shm file.
bool IsDatabaseFile(const std::string& path, const std::string& db_path) {
  std::string target = ResolvedParent(path);
  std::string db = ResolvedParent(db_path);
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
    if (target == db + suffix) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<v1::BackupResponse> Store::Backup(const v1::BackupRequest& req) {
  if (req.path().empty() || req.path()[0] != '/') {
    return absl::InvalidArgumentError("path: must be an absolute file path");
  }
  if (access(req.path().c_str(), F_OK) == 0) {
    return absl::AlreadyExistsError("backup " + req.path() + ": file exists");
  }
  if (IsDatabaseFile(req.path(), writer_db_->path())) {
    // SQLite would take a file named like the database's journal for its own and delete it.
    return absl::InvalidArgumentError("backup " + req.path() +
                                      ": names the database or one of its journal files; "
                                      "choose another name");
  }

  // VACUUM INTO copies one consistent snapshot; writers continue meanwhile.
  absl::StatusOr<std::unique_ptr<Database>> source = Database::Open(writer_db_->path());
  if (!source.ok()) return source.status();
  absl::StatusOr<Statement> vacuum = (*source)->Prepare("VACUUM INTO ?");
  if (!vacuum.ok()) return vacuum.status();
  absl::Status status = vacuum->Bind(1, req.path()).Run();
  if (!status.ok()) {
    // A partial file would look like a (smaller) good backup and block the retry.
    unlink(req.path().c_str());
    return Annotate(status, "backup " + req.path());
  }

  absl::StatusOr<std::unique_ptr<Database>> copy = Database::Open(req.path());
  if (!copy.ok()) return copy.status();
  absl::StatusOr<Statement> max_seq =
      (*copy)->Prepare("SELECT COALESCE(MAX(seq), 0) FROM messages");
  if (!max_seq.ok()) return max_seq.status();
  absl::StatusOr<bool> row = max_seq->Step();
  if (!row.ok()) return row.status();

  struct stat st;
  v1::BackupResponse response;
  response.set_max_seq(max_seq->Int(0));
  response.set_size_bytes(stat(req.path().c_str(), &st) == 0 ? st.st_size : 0);
  GetLogger("store")->info("backup written to {} ({} bytes, max seq {})", req.path(),
                           response.size_bytes(), response.max_seq());
  return response;
}

}  // namespace clawdie::store
