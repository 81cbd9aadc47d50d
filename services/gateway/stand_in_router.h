// A stand-in for clawdie-router in gateway tests: a real gRPC server (common/grpc_server.h,
// with health and a lock file) on a Unix socket that records what the gateway tells the
// router — Ingest, MigrateChat, ReportDelivery — and answers OK. It can be stopped and
// started again on the same socket to play a router restart.
//
// Thread-safety: all methods are safe from any thread; the on_ingest hook runs on gRPC's
// threads.
#ifndef CLAWDIE_SERVICES_GATEWAY_STAND_IN_ROUTER_H_
#define CLAWDIE_SERVICES_GATEWAY_STAND_IN_ROUTER_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "clawdie/v1/router.grpc.pb.h"
#include "common/grpc_server.h"

namespace clawdie::gateway {

class StandInRouter final : public clawdie::v1::Router::Service {
 public:
  // Serves on `unix:<socket_path>` once Start is called.
  explicit StandInRouter(std::string socket_path);
  ~StandInRouter() override;

  // Listens (again) and reports SERVING. Errors as GrpcServer::Start.
  absl::Status Start();
  // Stops listening, as a router that went away; what was recorded is kept.
  void Stop();
  // Sets the health it reports while listening (a real router is NOT_SERVING while its
  // store is down).
  void SetServing(bool serving);

  // Called for each Ingest before it is recorded; a non-OK status is the answer and nothing
  // is recorded. Set before Start.
  std::function<grpc::Status(const clawdie::v1::IngestRequest&)> on_ingest;

  std::vector<clawdie::v1::IngestRequest> ingested();
  std::vector<clawdie::v1::MigrateChatRequest> migrations();
  std::vector<clawdie::v1::DeliveryReceipt> receipts();

  // Wait (real time, up to `timeout`) until at least `n` calls of the kind were recorded.
  bool AwaitIngested(size_t n, absl::Duration timeout = absl::Seconds(10));
  bool AwaitMigrations(size_t n, absl::Duration timeout = absl::Seconds(10));
  bool AwaitReceipts(size_t n, absl::Duration timeout = absl::Seconds(10));

  std::string address() const { return "unix:" + socket_path_; }

  grpc::Status Ingest(grpc::ServerContext* context, const clawdie::v1::IngestRequest* request,
                      clawdie::v1::IngestResponse* response) override;
  grpc::Status MigrateChat(grpc::ServerContext* context,
                           const clawdie::v1::MigrateChatRequest* request,
                           clawdie::v1::MigrateChatResponse* response) override;
  grpc::Status ReportDelivery(grpc::ServerContext* context,
                              const clawdie::v1::ReportDeliveryRequest* request,
                              clawdie::v1::ReportDeliveryResponse* response) override;

 private:
  bool Await(const std::function<bool()>& done, absl::Duration timeout);

  std::string socket_path_;
  std::unique_ptr<GrpcServer> server_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<clawdie::v1::IngestRequest> ingested_;
  std::vector<clawdie::v1::MigrateChatRequest> migrations_;
  std::vector<clawdie::v1::DeliveryReceipt> receipts_;
};

}  // namespace clawdie::gateway

#endif  // CLAWDIE_SERVICES_GATEWAY_STAND_IN_ROUTER_H_
