// Output helpers shared by the subcommands (declared in commands.h).
#include <ostream>

#include "services/clawctl/commands.h"
#include "services/clawctl/format.h"

namespace clawdie::clawctl {

absl::Status PrintResult(Session* session, const google::protobuf::Message& message,
                         const Table& table, const std::string& empty_text) {
  if (session->json()) {
    absl::StatusOr<std::string> json = ProtoToJson(message);
    if (!json.ok()) return json.status();
    session->out() << *json;
  } else if (table.row_count() == 0) {
    session->out() << empty_text << "\n";
  } else {
    session->out() << table.Render();
  }
  return absl::OkStatus();
}

absl::Status PrintDone(Session* session, const google::protobuf::Message& message,
                       const std::string& text) {
  if (!session->json()) {
    session->out() << text << "\n";
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> json = ProtoToJson(message);
  if (!json.ok()) return json.status();
  session->out() << *json;
  return absl::OkStatus();
}

}  // namespace clawdie::clawctl
