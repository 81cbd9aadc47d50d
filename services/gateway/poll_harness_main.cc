// gateway_poll_harness: the Telegram poll loop alone, with an ingester that appends
// "<chat key> <message id>" lines to a file, for the kill -9 offset test. The token comes
// from TELEGRAM_BOT_TOKEN so it stays out of argv.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "CLI/CLI.hpp"
#include "services/gateway/telegram_dispatch.h"
#include "services/gateway/telegram_poller.h"

namespace clawdie::gateway {
namespace {

class FileIngester : public Ingester {
 public:
  FileIngester(int fd, absl::Duration delay) : fd_(fd), delay_(delay) {}
  absl::Status Ingest(const InboundMessage& m) override {
    std::string line = m.chat_key + " " + m.platform_message_id + "\n";
    if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      return absl::UnavailableError("write ingest log: short write");
    }
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(delay_));
    return absl::OkStatus();
  }

 private:
  int fd_;
  absl::Duration delay_;
};

int Main(int argc, char** argv) {
  CLI::App app{"Telegram poll loop with a file-backed ingester (tests only)"};
  std::string api_base, state_file, ingest_log;
  int delay_ms = 0;
  app.add_option("--api-base", api_base)->required();
  app.add_option("--state-file", state_file)->required();
  app.add_option("--ingest-log", ingest_log)->required();
  app.add_option("--ingest-delay-ms", delay_ms);
  CLI11_PARSE(app, argc, argv);
  const char* token = std::getenv("TELEGRAM_BOT_TOKEN");
  if (token == nullptr) return 2;

  int fd = ::open(ingest_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return 1;
  absl::StatusOr<std::unique_ptr<TelegramState>> state = TelegramState::Open(state_file);
  if (!state.ok()) return 1;
  TelegramClient client(api_base, token);
  absl::StatusOr<BotIdentity> bot = client.GetMe();
  if (!bot.ok()) return 1;
  FileIngester ingester(fd, absl::Milliseconds(delay_ms));
  ChannelHealth health("telegram");
  TelegramSender sender(&client, state->get(), RealClock(), TelegramSenderOptions());
  TelegramDispatcher dispatcher(*bot, &ingester, &sender, state->get(), &health);
  TelegramPollerOptions options;
  options.poll_timeout = absl::Seconds(1);
  options.initial_backoff = absl::Milliseconds(10);
  TelegramPoller poller(&client, state->get(), &dispatcher, &health, RealClock(), options);
  poller.Run();
  return 0;
}

}  // namespace
}  // namespace clawdie::gateway

int main(int argc, char** argv) { return clawdie::gateway::Main(argc, argv); }
