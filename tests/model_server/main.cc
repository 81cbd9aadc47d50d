// clawdie-test-model-server: a scripted stand-in for the Anthropic Messages API and
// OpenAI-compatible chat completions, for tests and benchmarks. See model_server.h for the
// script format.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "CLI/CLI.hpp"
#include "tests/model_server/model_server.h"

int main(int argc, char** argv) {
  CLI::App app{"clawdie-test-model-server: replays model API fixtures over HTTP"};
  std::string listen = "127.0.0.1:0";
  std::string script_path;
  std::string fixtures = ".";
  std::string request_log;
  std::string fixed_text;
  std::string ready_file;
  app.add_option("--listen", listen, "unix:/PATH or 127.0.0.1:PORT (0 = any free port)");
  app.add_option("--script", script_path, "JSON script of responses (see model_server.h)");
  app.add_option("--fixtures", fixtures,
                 "directory that relative fixture paths start from (default: the current one)");
  app.add_option("--request-log", request_log, "append every request as a JSON line to FILE");
  app.add_option("--fixed-text", fixed_text, "answer every request (after the script) with TEXT");
  app.add_option("--ready-file", ready_file, "write the bound address to FILE once listening");
  CLI11_PARSE(app, argc, argv);

  clawdie::testing::ModelServerScript script;
  if (!script_path.empty()) {
    absl::StatusOr<clawdie::testing::ModelServerScript> loaded =
        clawdie::testing::LoadScriptFile(script_path, fixtures);
    if (!loaded.ok()) {
      std::cerr << "clawdie-test-model-server: " << loaded.status().message() << "\n";
      return 2;
    }
    script = *std::move(loaded);
  }
  if (!fixed_text.empty()) script.fixed_text = fixed_text;

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // threads started below inherit the mask

  auto server = clawdie::testing::ModelServer::Start(listen, std::move(script), request_log);
  if (!server.ok()) {
    std::cerr << "clawdie-test-model-server: " << server.status().message() << "\n";
    return 1;
  }
  std::cout << "listening " << (*server)->address() << std::endl;
  if (!ready_file.empty()) {
    std::ofstream(ready_file + ".tmp") << (*server)->address() << "\n";
    std::rename((ready_file + ".tmp").c_str(), ready_file.c_str());
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  (*server)->Stop();
  return 0;
}
