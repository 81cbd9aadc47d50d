#include "services/clawctl/clawctl.h"

#include <algorithm>
#include <iostream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "common/service_main.h"
#include "services/clawctl/commands.h"
#include "services/clawctl/session.h"

namespace clawdie::clawctl {
namespace {

void AddGlobalFlags(CLI::App* app, GlobalFlags* flags) {
  app->add_option("--config", flags->config_path,
                  "Configuration file (default " + DefaultConfigPath() + ", may be absent)");
  app->add_option("--run-dir", flags->run_dir, "Directory of the services' sockets");
  for (const std::string& service : ServiceNames()) {
    app->add_option("--" + service + "-addr", flags->addresses[service],
                    "Address of clawdie-" + service + " (unix:/path or host:port)");
  }
  app->add_option("--timeout", flags->timeout, "Deadline of each call (default 10s)");
  app->add_flag("--json", flags->json, "Print JSON for scripts");
  app->set_version_flag("--version", std::string(ClawdieVersion()));
}

void AddCommands(CLI::App* app, Action* action) {
  AddStatusCommand(app, action);
  AddDoctorCommand(app, action);
  AddChatCommands(app, action);
  AddGroupCommands(app, action);
  AddTaskCommands(app, action);
  AddRunCommands(app, action);
}

// CLI11's messages can span lines; clawctl's reason is one line.
std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

// For a command line that names no valid subcommand where one is needed: which words are
// valid there, and the word given instead, if any ("" when the error is another one).
std::string SubcommandError(CLI::App* app) {
  CLI::App* at = app;
  std::string path = "clawctl";
  for (bool descended = true; descended;) {
    descended = false;
    for (CLI::App* sub : at->get_subcommands()) {
      at = sub;
      path += " " + sub->get_name();
      descended = true;
      break;
    }
  }
  if (at->get_require_subcommand_min() == 0 || !at->get_subcommands().empty()) return "";
  std::string names;
  for (const CLI::App* sub : at->get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  std::vector<std::string> rest = app->remaining();
  if (rest.empty()) return path + " needs a command: one of " + names;
  return "unknown command \"" + rest.front() + "\" for " + path + ": one of " + names;
}

// Parses `args`; returns -1 to go on, else the exit code (help, version or a usage error).
int Parse(CLI::App* app, const std::vector<std::string>& args, std::ostream& out,
          std::ostream& err) {
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them reversed
  try {
    app->parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out << app->help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    out << app->help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion&) {
    out << ClawdieVersion() << "\n";
    return kExitOk;
  } catch (const CLI::ParseError& error) {
    std::string reason =
        dynamic_cast<const CLI::RequiredError*>(&error) != nullptr ? SubcommandError(app) : "";
    err << "clawctl: " << (reason.empty() ? FirstLine(error.what()) : reason)
        << " (see clawctl --help)\n";
    return kExitUsage;
  }
  return -1;
}

}  // namespace

int RunClawctl(const std::vector<std::string>& args, char** environ, std::istream& in,
               std::ostream& out, std::ostream& err) {
  CLI::App app("clawctl: operate a clawdie installation", "clawctl");
  app.require_subcommand(1);
  app.fallthrough();
  GlobalFlags flags;
  AddGlobalFlags(&app, &flags);
  Action action;
  AddCommands(&app, &action);

  if (int code = Parse(&app, args, out, err); code >= 0) return code;
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(flags, environ, &in, &out);
  absl::Status status = session.ok() ? action(session->get()) : session.status();
  out.flush();
  if (!status.ok()) {
    err << "clawctl: " << FirstLine(std::string(status.message())) << "\n";
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace clawdie::clawctl
