// Router stand-in for gateway tests; see stand_in_router.h.
#include "services/gateway/stand_in_router.h"

namespace clawdie::gateway {

using clawdie::v1::DeliveryReceipt;
using clawdie::v1::IngestRequest;
using clawdie::v1::MigrateChatRequest;

StandInRouter::StandInRouter(std::string socket_path) : socket_path_(std::move(socket_path)) {}

StandInRouter::~StandInRouter() { Stop(); }

absl::Status StandInRouter::Start() {
  ServerOptions options;
  options.name = "router";
  options.listen = address();
  options.drain = absl::Milliseconds(200);
  server_ = std::make_unique<GrpcServer>(options);
  server_->AddService(this, "clawdie.v1.Router");
  absl::Status started = server_->Start();
  if (started.ok()) server_->SetServing(true);
  return started;
}

void StandInRouter::Stop() {
  // Destroying the server also releases its lock file, so Start can take the socket again.
  if (server_) server_->Shutdown();
  server_.reset();
}

void StandInRouter::SetServing(bool serving) {
  if (server_) server_->SetServing(serving);
}

grpc::Status StandInRouter::Ingest(grpc::ServerContext*, const IngestRequest* request,
                                   clawdie::v1::IngestResponse* response) {
  if (on_ingest) {
    grpc::Status answer = on_ingest(*request);
    if (!answer.ok()) return answer;
  }
  std::lock_guard<std::mutex> lock(mu_);
  ingested_.push_back(*request);
  changed_.notify_all();
  response->set_seq(static_cast<int64_t>(ingested_.size()));
  response->set_inserted(true);
  return grpc::Status::OK;
}

grpc::Status StandInRouter::MigrateChat(grpc::ServerContext*, const MigrateChatRequest* request,
                                        clawdie::v1::MigrateChatResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  migrations_.push_back(*request);
  changed_.notify_all();
  response->set_moved(true);
  return grpc::Status::OK;
}

grpc::Status StandInRouter::ReportDelivery(grpc::ServerContext*,
                                           const clawdie::v1::ReportDeliveryRequest* request,
                                           clawdie::v1::ReportDeliveryResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  receipts_.push_back(request->receipt());
  changed_.notify_all();
  response->set_outbox_id(request->receipt().outbox_id());
  response->set_platform_state(request->receipt().state());
  return grpc::Status::OK;
}

std::vector<IngestRequest> StandInRouter::ingested() {
  std::lock_guard<std::mutex> lock(mu_);
  return ingested_;
}

std::vector<MigrateChatRequest> StandInRouter::migrations() {
  std::lock_guard<std::mutex> lock(mu_);
  return migrations_;
}

std::vector<DeliveryReceipt> StandInRouter::receipts() {
  std::lock_guard<std::mutex> lock(mu_);
  return receipts_;
}

bool StandInRouter::Await(const std::function<bool()>& done, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout), done);
}

bool StandInRouter::AwaitIngested(size_t n, absl::Duration timeout) {
  return Await([&] { return ingested_.size() >= n; }, timeout);
}

bool StandInRouter::AwaitMigrations(size_t n, absl::Duration timeout) {
  return Await([&] { return migrations_.size() >= n; }, timeout);
}

bool StandInRouter::AwaitReceipts(size_t n, absl::Duration timeout) {
  return Await([&] { return receipts_.size() >= n; }, timeout);
}

}  // namespace clawdie::gateway
