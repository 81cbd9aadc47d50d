// The clawdie.v1.Router gRPC service: Ingest for the gateway and the admin RPCs
// for clawctl, translated to the Router core and the store. The only place
// where absl::Status becomes grpc::Status.
//
// Thread-safety: gRPC calls the methods from many threads; everything they use
// is thread-safe.
#ifndef CLAWDIE_SERVICES_ROUTER_ROUTER_SERVICE_H_
#define CLAWDIE_SERVICES_ROUTER_ROUTER_SERVICE_H_

#include "clawdie/v1/router.grpc.pb.h"
#include "services/router/router.h"
#include "services/router/store_client.h"

namespace clawdie::router {

class RouterService final : public pb::Router::Service {
 public:
  // Not owned; both must outlive the service.
  RouterService(Router* router, StoreClient* store, std::string assistant_name);

  grpc::Status Ingest(grpc::ServerContext* context, const pb::IngestRequest* request,
                      pb::IngestResponse* response) override;
  grpc::Status MigrateChat(grpc::ServerContext* context, const pb::MigrateChatRequest* request,
                           pb::MigrateChatResponse* response) override;
  grpc::Status ReportDelivery(grpc::ServerContext* context,
                              const pb::ReportDeliveryRequest* request,
                              pb::ReportDeliveryResponse* response) override;
  grpc::Status RegisterGroup(grpc::ServerContext* context, const pb::RegisterGroupRequest* request,
                             pb::Group* response) override;
  grpc::Status UpdateGroup(grpc::ServerContext* context, const pb::UpdateGroupRequest* request,
                           pb::Group* response) override;
  grpc::Status UnregisterGroup(grpc::ServerContext* context,
                               const pb::UnregisterGroupRequest* request,
                               pb::UnregisterGroupResponse* response) override;
  grpc::Status ListGroups(grpc::ServerContext* context, const pb::ListGroupsRequest* request,
                          pb::ListGroupsResponse* response) override;
  grpc::Status ListChats(grpc::ServerContext* context, const pb::ListChatsRequest* request,
                         pb::ListChatsResponse* response) override;
  grpc::Status CreateTask(grpc::ServerContext* context, const pb::RouterCreateTaskRequest* request,
                          pb::Task* response) override;
  grpc::Status ListTasks(grpc::ServerContext* context, const pb::ListTasksRequest* request,
                         pb::ListTasksResponse* response) override;
  grpc::Status SetTaskState(grpc::ServerContext* context, const pb::SetTaskStateRequest* request,
                            pb::Task* response) override;
  grpc::Status ListTaskRuns(grpc::ServerContext* context, const pb::ListTaskRunsRequest* request,
                            pb::ListTaskRunsResponse* response) override;
  grpc::Status ListRuns(grpc::ServerContext* context, const pb::ListRunsRequest* request,
                        pb::ListRunsResponse* response) override;
  grpc::Status QueueState(grpc::ServerContext* context, const pb::QueueStateRequest* request,
                          pb::QueueStateResponse* response) override;

 private:
  Router* router_;
  StoreClient* store_;
  std::string assistant_name_;
};

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_ROUTER_SERVICE_H_
