// Conversion between absl::Status (used everywhere inside clawdie) and
// grpc::Status (used only at the gRPC edge). The canonical codes map one to one.
//
// Thread-safety: pure functions.
#ifndef CLAWDIE_COMMON_STATUS_H_
#define CLAWDIE_COMMON_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace clawdie {

// Returns the grpc::Status with the same code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Returns the absl::Status with the same code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Returns `status` with "context: " put before its message; OK stays OK.
absl::Status Annotate(const absl::Status& status, const std::string& context);

// Builds an error for a failed libc call: "operation object: strerror(errnum)", with the
// code chosen from errnum (ENOSPC → RESOURCE_EXHAUSTED, EACCES → PERMISSION_DENIED, ...).
absl::Status ErrnoError(int errnum, const std::string& operation_and_object);

}  // namespace clawdie

#endif  // CLAWDIE_COMMON_STATUS_H_
