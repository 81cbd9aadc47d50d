// How clawctl shows the services' answers: as aligned tables for people and as
// JSON for scripts. JSON of a protobuf message uses the proto field names
// (snake_case), prints fields at their default values, and enums by name, so a
// script sees every field whether or not it is set.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_SERVICES_CLAWCTL_FORMAT_H_
#define CLAWDIE_SERVICES_CLAWCTL_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clawdie/v1/broker.pb.h"
#include "clawdie/v1/router.pb.h"
#include "clawdie/v1/store.pb.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/clawctl/table.h"

namespace clawdie::clawctl {

// The message as indented JSON followed by '\n'. Internal error if it cannot be printed.
absl::StatusOr<std::string> ProtoToJson(const google::protobuf::Message& message);

// "2026-01-02 15:04:05" in `zone`, or "-" for an unset (zero) timestamp.
std::string FormatTimestamp(const google::protobuf::Timestamp& timestamp, absl::TimeZone zone);

// "1h30m", "45s", "1.5s" for sub-minute fractions, or "-" for zero.
std::string FormatDuration(const google::protobuf::Duration& duration);

// The enum value's name without the type's prefix, lower case:
// RUN_STATE_RUNNING → "running", TASK_KIND_CRON → "cron". The number when unknown.
std::string EnumLabel(const google::protobuf::EnumDescriptor* type, int value);

// Tables of the list answers, one row per item, newest or ordered as the service sent them.
Table GroupsTable(const v1::ListGroupsResponse& response);
Table ChatsTable(const v1::ListChatsResponse& response, absl::TimeZone zone);
Table TasksTable(const v1::ListTasksResponse& response, absl::TimeZone zone);
Table TaskRunsTable(const v1::ListTaskRunsResponse& response, absl::TimeZone zone);
Table MessagesTable(const v1::ListMessagesResponse& response, absl::TimeZone zone);
Table RunsTable(const v1::ListRunsResponse& response, absl::TimeZone zone);
Table SandboxesTable(const v1::ListSandboxesResponse& response, absl::TimeZone zone);

}  // namespace clawdie::clawctl

#endif  // CLAWDIE_SERVICES_CLAWCTL_FORMAT_H_
