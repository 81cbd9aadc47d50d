// clawdie-test-telegram-server: the Telegram Bot API stand-in as a process, for end-to-end
// tests. Prints "listening on HOST:PORT" once it serves, then runs until SIGTERM/SIGINT.
// The token comes from --token or, to keep it out of argv, TELEGRAM_BOT_TOKEN.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "tests/telegram_server/telegram_test_server.h"

namespace {

bool SplitHostPort(const std::string& listen, std::string* host, int* port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  *port = std::atoi(listen.substr(colon + 1).c_str());
  return !host->empty() && *port >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Telegram Bot API stand-in on loopback for clawdie tests"};
  std::string listen = "127.0.0.1:0";
  std::string token;
  std::string bot_file;
  app.add_option("--listen", listen, "HOST:PORT to serve on (port 0 picks one)");
  app.add_option("--token", token, "bot token expected in /bot<token>/ (else TELEGRAM_BOT_TOKEN)");
  app.add_option("--bot-json", bot_file, "file with the getMe result object");
  CLI11_PARSE(app, argc, argv);

  if (token.empty() && std::getenv("TELEGRAM_BOT_TOKEN") != nullptr) {
    token = std::getenv("TELEGRAM_BOT_TOKEN");
  }
  if (token.empty()) {
    std::cerr << "clawdie-test-telegram-server: no token (--token or TELEGRAM_BOT_TOKEN)\n";
    return 2;
  }
  nlohmann::json bot;
  if (!bot_file.empty()) {
    absl::StatusOr<nlohmann::json> loaded = clawdie::testing::LoadJsonFile(bot_file);
    if (!loaded.ok()) {
      std::cerr << "clawdie-test-telegram-server: " << loaded.status().message() << "\n";
      return 2;
    }
    bot = *loaded;
  }
  std::string host;
  int port = 0;
  if (!SplitHostPort(listen, &host, &port)) {
    std::cerr << "clawdie-test-telegram-server: --listen " << listen << ": not HOST:PORT\n";
    return 2;
  }

  // Block the stop signals before threads start; wait for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  clawdie::testing::TelegramTestServer server(token, bot);
  absl::Status started = server.Start(host, port);
  if (!started.ok()) {
    std::cerr << "clawdie-test-telegram-server: " << started.message() << "\n";
    return 1;
  }
  std::printf("listening on %s:%d\n", host.c_str(), server.port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  server.Stop();
  return 0;
}
