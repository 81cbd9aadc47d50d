#include "services/router/router_service.h"

#include "common/status.h"
#include "services/router/gateway_reports.h"
#include "services/router/router_log.h"
#include "services/router/tool_auth.h"

namespace clawdie::router {
namespace {

// Copies an OK result into `response`, or returns the error as a grpc::Status.
template <typename T>
grpc::Status Reply(const absl::StatusOr<T>& result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *result;
  return grpc::Status::OK;
}

}  // namespace

RouterService::RouterService(Router* router, StoreClient* store, std::string assistant_name)
    : router_(router), store_(store), assistant_name_(std::move(assistant_name)) {}

grpc::Status RouterService::Ingest(grpc::ServerContext*, const pb::IngestRequest* request,
                                   pb::IngestResponse* response) {
  return Reply(router_->Ingest(*request), response);
}

grpc::Status RouterService::MigrateChat(grpc::ServerContext*, const pb::MigrateChatRequest* request,
                                        pb::MigrateChatResponse* response) {
  return Reply(MigrateGroupChat(store_, *request), response);
}

grpc::Status RouterService::ReportDelivery(grpc::ServerContext*,
                                           const pb::ReportDeliveryRequest* request,
                                           pb::ReportDeliveryResponse* response) {
  return Reply(RecordDeliveryReceipt(store_, *request), response);
}

grpc::Status RouterService::RegisterGroup(grpc::ServerContext*,
                                          const pb::RegisterGroupRequest* request,
                                          pb::Group* response) {
  pb::CreateGroupRequest create;
  *create.mutable_group() = request->group();
  pb::Group* group = create.mutable_group();
  if (group->chat_jid().empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError("register group: chat_jid is required"));
  }
  if (group->trigger().empty()) group->set_trigger("@" + assistant_name_);
  group->set_requires_trigger(request->has_requires_trigger() ? request->requires_trigger()
                                                              : !group->is_main());
  absl::Status valid = ValidateGroupSettings(*group);
  if (!valid.ok()) return ToGrpcStatus(Annotate(valid, "register group"));
  absl::StatusOr<pb::Group> created = store_->CreateGroup(create);
  if (created.ok()) {
    Log()->info("group {} registered for {}{}", created->folder(), created->chat_jid(),
                created->is_main() ? " (main)" : "");
  }
  return Reply(created, response);
}

grpc::Status RouterService::UpdateGroup(grpc::ServerContext*, const pb::UpdateGroupRequest* request,
                                        pb::Group* response) {
  pb::UpdateGroupRequest update = *request;
  pb::Group* group = update.mutable_group();
  pb::GetGroupRequest lookup;
  lookup.set_folder(group->folder());
  absl::StatusOr<pb::Group> current = store_->GetGroup(lookup);
  if (!current.ok()) return ToGrpcStatus(Annotate(current.status(), "update group"));
  if (current->is_main() && !group->is_main()) {
    // Leaving no main group would leave nobody able to administer from a chat.
    return ToGrpcStatus(absl::FailedPreconditionError(
        "update group " + group->folder() +
        ": it is the main group; set is_main to keep it, or unregister it to remove it"));
  }
  if (group->trigger().empty()) group->set_trigger(current->trigger());
  absl::Status valid = ValidateGroupSettings(*group);
  if (!valid.ok()) return ToGrpcStatus(Annotate(valid, "update group"));
  return Reply(store_->UpdateGroup(update), response);
}

grpc::Status RouterService::UnregisterGroup(grpc::ServerContext*,
                                            const pb::UnregisterGroupRequest* request,
                                            pb::UnregisterGroupResponse*) {
  pb::DeleteGroupRequest remove;
  remove.set_folder(request->folder());
  absl::StatusOr<pb::DeleteGroupResponse> removed = store_->DeleteGroup(remove);
  if (!removed.ok()) return ToGrpcStatus(removed.status());
  router_->ForgetGroup(request->folder());

  // Its tasks would only fire into nothing: pause them with the reason.
  pb::ListTasksRequest list;
  list.set_group_folder(request->folder());
  absl::StatusOr<pb::ListTasksResponse> tasks = store_->ListTasks(list);
  if (tasks.ok()) {
    for (const pb::Task& task : tasks->tasks()) {
      if (task.state() != pb::TASK_STATE_ACTIVE) continue;
      router_->task_ops()
          ->SetState(task, pb::TASK_STATE_PAUSED,
                     "group " + request->folder() + " was unregistered")
          .IgnoreError();
    }
  }
  Log()->info("group {} unregistered", request->folder());
  return grpc::Status::OK;
}

grpc::Status RouterService::ListGroups(grpc::ServerContext*, const pb::ListGroupsRequest* request,
                                       pb::ListGroupsResponse* response) {
  return Reply(store_->ListGroups(*request), response);
}

grpc::Status RouterService::ListChats(grpc::ServerContext*, const pb::ListChatsRequest* request,
                                      pb::ListChatsResponse* response) {
  return Reply(store_->ListChats(*request), response);
}

grpc::Status RouterService::CreateTask(grpc::ServerContext*,
                                       const pb::RouterCreateTaskRequest* request,
                                       pb::Task* response) {
  pb::GetGroupRequest lookup;
  lookup.set_folder(request->task().group_folder());
  absl::StatusOr<pb::Group> group = store_->GetGroup(lookup);
  if (!group.ok()) {
    return ToGrpcStatus(Annotate(group.status(), "create task for group " + lookup.folder()));
  }
  return Reply(router_->task_ops()->Create(*group, request->task()), response);
}

grpc::Status RouterService::ListTasks(grpc::ServerContext*, const pb::ListTasksRequest* request,
                                      pb::ListTasksResponse* response) {
  return Reply(store_->ListTasks(*request), response);
}

grpc::Status RouterService::SetTaskState(grpc::ServerContext*,
                                         const pb::SetTaskStateRequest* request,
                                         pb::Task* response) {
  pb::GetTaskRequest get;
  get.set_id(request->id());
  absl::StatusOr<pb::Task> task = store_->GetTask(get);
  if (!task.ok()) return ToGrpcStatus(task.status());
  return Reply(router_->task_ops()->SetState(*task, request->state(), "paused by the operator"),
               response);
}

grpc::Status RouterService::ListTaskRuns(grpc::ServerContext*,
                                         const pb::ListTaskRunsRequest* request,
                                         pb::ListTaskRunsResponse* response) {
  return Reply(store_->ListTaskRuns(*request), response);
}

grpc::Status RouterService::ListRuns(grpc::ServerContext*, const pb::ListRunsRequest* request,
                                     pb::ListRunsResponse* response) {
  return Reply(store_->ListRuns(*request), response);
}

grpc::Status RouterService::QueueState(grpc::ServerContext*, const pb::QueueStateRequest*,
                                       pb::QueueStateResponse* response) {
  *response = router_->QueueState();
  return grpc::Status::OK;
}

}  // namespace clawdie::router
