// `clawctl status`: each service's address and health, the broker's sandbox
// backend, the router's queue and the gateway's channels. Exits 0 only when
// every service reports SERVING.
#include <ostream>
#include <vector>

#include "clawdie/v1/broker.grpc.pb.h"
#include "clawdie/v1/gateway.grpc.pb.h"
#include "clawdie/v1/router.grpc.pb.h"
#include "common/service_main.h"
#include "nlohmann/json.hpp"
#include "services/clawctl/commands.h"
#include "services/clawctl/health_client.h"
#include "services/clawctl/status_report.h"

namespace clawdie::clawctl {
namespace {

// The cause of a failed detail call: its message, or its code when the message is empty.
std::string Cause(const grpc::Status& status) {
  if (!status.error_message().empty()) return status.error_message();
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
}

ServiceHealth ProbeHealth(Session* session, const std::string& name) {
  ServiceHealth health;
  health.name = name;
  health.address = session->Address(name);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = session->Channel(name);
  absl::StatusOr<HealthState> state =
      channel.ok() ? CheckHealth(*channel, "", session->timeout(), &health.version)
                   : channel.status();
  if (state.ok()) {
    health.state = HealthStateName(*state);
  } else {
    health.state = "UNREACHABLE";
    health.error = std::string(state.status().message());
  }
  return health;
}

std::string BrokerDetail(Session* session) {
  auto stub = session->Stub<v1::Broker>("broker");
  if (!stub.ok()) return "";
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::InfoResponse info;
  grpc::Status status = (*stub)->Info(&context, v1::InfoRequest(), &info);
  if (!status.ok()) return "info: " + Cause(status);
  return DescribeBroker(info);
}

std::string RouterDetail(Session* session) {
  auto stub = session->Stub<v1::Router>("router");
  if (!stub.ok()) return "";
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::QueueStateResponse queue;
  grpc::Status status = (*stub)->QueueState(&context, v1::QueueStateRequest(), &queue);
  if (!status.ok()) return "queue: " + Cause(status);
  return DescribeQueue(queue);
}

std::string GatewayDetail(Session* session) {
  auto stub = session->Stub<v1::Gateway>("gateway");
  if (!stub.ok()) return "";
  grpc::ClientContext context;
  session->Prepare(&context);
  v1::StatusResponse channels;
  grpc::Status status = (*stub)->Status(&context, v1::StatusRequest(), &channels);
  if (!status.ok()) return "channels: " + Cause(status);
  return DescribeChannels(channels);
}

// Fills in what each serving service says about itself.
void AddDetails(Session* session, std::vector<ServiceHealth>* services) {
  for (ServiceHealth& service : *services) {
    if (service.state != "SERVING") continue;
    if (service.name == "broker") service.detail = BrokerDetail(session);
    if (service.name == "router") service.detail = RouterDetail(session);
    if (service.name == "gateway") service.detail = GatewayDetail(session);
  }
}

absl::Status Status(Session* session) {
  std::vector<ServiceHealth> services;
  for (const std::string& name : ServiceNames()) services.push_back(ProbeHealth(session, name));
  AddDetails(session, &services);

  if (session->json()) {
    session->out() << StatusJson(ClawdieVersion(), services).dump(2) << "\n";
  } else {
    session->out() << "clawctl " << ClawdieVersion() << "\n" << StatusTable(services).Render();
  }
  return StatusVerdict(services);
}

}  // namespace

void AddStatusCommand(CLI::App* app, Action* action) {
  app->add_subcommand("status", "Health of every service; exit 0 only if all are SERVING")
      ->callback([action] { *action = Status; });
}

}  // namespace clawdie::clawctl
