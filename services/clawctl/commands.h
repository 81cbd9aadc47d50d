// clawctl's subcommands. Each Add*Commands function declares its subcommands'
// arguments on the CLI11 app and, when one of them is chosen on the command
// line, stores in `*action` the function that carries it out against a
// Session. The functions write their result to the session's output (a table,
// text, or one JSON document with --json) and return an error whose message is
// the one line clawctl prints before exiting non-zero.
//
// Thread-safety: used from main's thread only; `chat` and `send --wait` start a reader
// thread of their own for the gateway stream.
#ifndef CLAWDIE_SERVICES_CLAWCTL_COMMANDS_H_
#define CLAWDIE_SERVICES_CLAWCTL_COMMANDS_H_

#include <functional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "services/clawctl/session.h"
#include "services/clawctl/table.h"

namespace clawdie::clawctl {

using Action = std::function<absl::Status(Session*)>;

// status
void AddStatusCommand(CLI::App* app, Action* action);
// doctor
void AddDoctorCommand(CLI::App* app, Action* action);
// chat, send
void AddChatCommands(CLI::App* app, Action* action);
// groups list|add|remove, chats
void AddGroupCommands(CLI::App* app, Action* action);
// tasks list|add|pause|resume|cancel|runs
void AddTaskCommands(CLI::App* app, Action* action);
// messages, runs, sandboxes, kill, backup
void AddRunCommands(CLI::App* app, Action* action);

// Writes `message` as JSON with --json, else the table, or `empty_text` and a newline when
// the table has no rows.
absl::Status PrintResult(Session* session, const google::protobuf::Message& message,
                         const Table& table, const std::string& empty_text);

// Writes `message` as JSON with --json, else `text` and a newline.
absl::Status PrintDone(Session* session, const google::protobuf::Message& message,
                       const std::string& text);

}  // namespace clawdie::clawctl

#endif  // CLAWDIE_SERVICES_CLAWCTL_COMMANDS_H_
