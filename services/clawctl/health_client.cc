#include "services/clawctl/health_client.h"

#include <vector>

#include "common/grpc_client.h"
#include "common/grpc_server.h"
#include "common/status.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

namespace clawdie::clawctl {
namespace {

using google::protobuf::internal::WireFormatLite;

constexpr char kCheckMethod[] = "/grpc.health.v1.Health/Check";
// Field 1 of both messages: HealthCheckRequest.service, HealthCheckResponse.status.
constexpr int kFieldNumber = 1;

std::string ByteBufferToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string text;
  if (!buffer.Dump(&slices).ok()) return text;
  for (const grpc::Slice& slice : slices) {
    text.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return text;
}

}  // namespace

std::string HealthStateName(HealthState state) {
  switch (state) {
    case HealthState::kServing:
      return "SERVING";
    case HealthState::kNotServing:
      return "NOT_SERVING";
    case HealthState::kServiceUnknown:
      return "SERVICE_UNKNOWN";
    case HealthState::kUnknown:
      break;
  }
  return "UNKNOWN";
}

std::string EncodeHealthCheckRequest(const std::string& service) {
  std::string bytes;
  if (service.empty()) return bytes;  // proto3 omits an empty string
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  WireFormatLite::WriteString(kFieldNumber, service, &coded);
  coded.Trim();
  return bytes;
}

absl::StatusOr<HealthState> DecodeHealthCheckResponse(const std::string& bytes) {
  google::protobuf::io::CodedInputStream coded(reinterpret_cast<const uint8_t*>(bytes.data()),
                                               static_cast<int>(bytes.size()));
  HealthState state = HealthState::kUnknown;
  while (uint32_t tag = coded.ReadTag()) {
    if (WireFormatLite::GetTagFieldNumber(tag) == kFieldNumber &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_VARINT) {
      uint32_t value = 0;
      if (!coded.ReadVarint32(&value)) break;
      state = value <= 3 ? static_cast<HealthState>(value) : HealthState::kUnknown;
    } else if (!WireFormatLite::SkipField(&coded, tag)) {
      return absl::InvalidArgumentError("decode health response: malformed message");
    }
  }
  if (!coded.ConsumedEntireMessage()) {
    return absl::InvalidArgumentError("decode health response: malformed message");
  }
  return state;
}

absl::StatusOr<HealthState> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                        const std::string& service, absl::Duration timeout,
                                        std::string* version) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  PrepareContext(&context, timeout, /*wait_for_ready=*/false);

  grpc::Slice slice(EncodeHealthCheckRequest(service));
  grpc::ByteBuffer request(&slice, 1);
  grpc::CompletionQueue queue;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, kCheckMethod, request, &queue);
  call->StartCall();

  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  if (!status.ok()) return FromGrpcStatus(status);
  if (version != nullptr) {
    const auto& metadata = context.GetServerInitialMetadata();
    auto it = metadata.find(kVersionMetadataKey);
    *version = it == metadata.end() ? "" : std::string(it->second.data(), it->second.size());
  }
  return DecodeHealthCheckResponse(ByteBufferToString(response));
}

}  // namespace clawdie::clawctl
