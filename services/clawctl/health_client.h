// A client of the standard grpc.health.v1.Health service for clawctl.
//
// Debian's libgrpc++ ships the health service for servers but no generated
// client, and we do not vendor the health .proto. The request and response are
// two tiny messages, so they are encoded here by hand on the protobuf wire
// format and sent with grpc::GenericStub to /grpc.health.v1.Health/Check.
//
// Thread-safety: the functions are safe to call from any thread.
#ifndef CLAWDIE_SERVICES_CLAWCTL_HEALTH_CLIENT_H_
#define CLAWDIE_SERVICES_CLAWCTL_HEALTH_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace clawdie::clawctl {

// grpc.health.v1.HealthCheckResponse.ServingStatus, with the wire values.
enum class HealthState { kUnknown = 0, kServing = 1, kNotServing = 2, kServiceUnknown = 3 };

// "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN" or "UNKNOWN".
std::string HealthStateName(HealthState state);

// Encodes a HealthCheckRequest for `service` ("" asks about the whole server).
std::string EncodeHealthCheckRequest(const std::string& service);

// Decodes a HealthCheckResponse; unknown fields are skipped, an absent status is UNKNOWN.
// InvalidArgument for bytes that are not a valid message.
absl::StatusOr<HealthState> DecodeHealthCheckResponse(const std::string& bytes);

// Calls Health.Check on `channel` with deadline `timeout`, failing fast when the peer is
// not reachable. Returns the call's error (UNAVAILABLE, DEADLINE_EXCEEDED, UNIMPLEMENTED
// when the server has no health service) with its gRPC message.
// `version`, if given, receives the version the server announced ("" if none).
absl::StatusOr<HealthState> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service, absl::Duration timeout,
                                        std::string* version = nullptr);

}  // namespace clawdie::clawctl

#endif  // CLAWDIE_SERVICES_CLAWCTL_HEALTH_CLIENT_H_
