// gateway_bench: inbound update → Ingest latency through the real poll loop against the
// test Bot API server (1,000 updates, one at a time), and outbound throughput across 50
// chats with the default pacing (1 message/s per chat, 30/s overall). Prints the figures.
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "services/gateway/telegram_dispatch.h"
#include "services/gateway/telegram_poller.h"
#include "tests/telegram_server/telegram_test_server.h"

namespace clawdie::gateway {
namespace {

constexpr char kToken[] = "8012345678:bench-token";

class TimingIngester : public Ingester {
 public:
  absl::Status Ingest(const InboundMessage&) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_ = absl::Now();
    ++count_;
    cv_.notify_all();
    return absl::OkStatus();
  }
  absl::Time AwaitCount(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return count_ >= n; });
    return last_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
  absl::Time last_;
};

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * (v.size() - 1))];
}

void InboundLatency(const std::string& state_dir) {
  testing::TelegramTestServer server(kToken);
  if (!server.Start().ok()) return;
  TelegramClient client(server.base_url(), kToken);
  std::unique_ptr<TelegramState> state = *TelegramState::Open(state_dir + "/bench.state");
  TimingIngester ingester;
  ChannelHealth health("telegram");
  TelegramSender sender(&client, state.get(), RealClock(), TelegramSenderOptions());
  TelegramDispatcher dispatcher(*client.GetMe(), &ingester, &sender, state.get(), &health);
  TelegramPollerOptions options;
  options.poll_timeout = absl::Seconds(30);
  TelegramPoller poller(&client, state.get(), &dispatcher, &health, RealClock(), options);
  std::thread loop([&] { poller.Run(); });

  constexpr int kUpdates = 1000;
  std::vector<double> ms;
  for (int i = 0; i < kUpdates; ++i) {
    // Let the poller settle into its long poll, as it would be between real messages.
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    absl::Time sent = absl::Now();
    server.EnqueueUpdate({{"message",
                           {{"message_id", i + 1},
                            {"date", 1767949200},
                            {"from", {{"id", 7}, {"first_name", "Bench"}}},
                            {"chat", {{"id", 7}, {"type", "private"}}},
                            {"text", "message " + std::to_string(i)}}}});
    absl::Time ingested = ingester.AwaitCount(i + 1);
    ms.push_back(absl::ToDoubleMilliseconds(ingested - sent));
  }
  poller.Stop();
  loop.join();
  std::printf(
      "inbound: %d updates, update -> Ingest latency p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
      kUpdates, Percentile(ms, 0.5), Percentile(ms, 0.99), Percentile(ms, 1.0));
  std::printf("  (long poll wake-up, HTTP on loopback, normalising, Ingest, offset file write)\n");

  // The gateway's own share: normalise, Ingest, save the offset; no HTTP.
  std::vector<double> own;
  for (int i = 0; i < kUpdates; ++i) {
    nlohmann::json update = {{"update_id", 800000000 + i},
                             {"message",
                              {{"message_id", 5000 + i},
                               {"date", 1767949200},
                               {"from", {{"id", 7}, {"first_name", "Bench"}}},
                               {"chat", {{"id", 7}, {"type", "private"}}},
                               {"text", "message " + std::to_string(i)}}}};
    absl::Time start = absl::Now();
    absl::Status handled = dispatcher.Handle(update);
    absl::Status saved = state->ConfirmUpTo(800000000 + i + 1);
    own.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    if (!handled.ok() || !saved.ok()) return;
  }
  std::printf(
      "inbound, gateway share only (normalise + Ingest + offset save): "
      "p50 %.3f ms, p99 %.3f ms\n",
      Percentile(own, 0.5), Percentile(own, 0.99));
}

void OutboundThroughput() {
  testing::TelegramTestServer server(kToken);
  if (!server.Start().ok()) return;
  TelegramClient client(server.base_url(), kToken);
  std::unique_ptr<TelegramState> state = *TelegramState::Open("");
  TelegramSenderOptions options;  // default pacing
  TelegramSender sender(&client, state.get(), RealClock(), options);

  constexpr int kChats = 50;
  constexpr int kPerChat = 4;
  absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int c = 0; c < kChats; ++c) {
    threads.emplace_back([&, c] {
      for (int m = 0; m < kPerChat; ++m) {
        sender.Send("tg:" + std::to_string(1000 + c), "reply " + std::to_string(m));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  int total = kChats * kPerChat;
  // Pacing bound: 30 go at once (global burst), the rest at 30/s; per chat 1/s.
  double bound = std::max((total - options.pacing.global_burst) / 30.0, kPerChat - 1.0);
  std::printf(
      "outbound: %d messages to %d chats in %.2f s = %.1f msg/s "
      "(pacing allows %.2f s at best: 30/s global, 1/s per chat); sent %zu\n",
      total, kChats, seconds, total / seconds, bound, server.Requests("sendMessage").size());
}

}  // namespace
}  // namespace clawdie::gateway

int main() {
  std::string dir = "/tmp/gwbench.XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return 1;
  clawdie::gateway::InboundLatency(dir);
  clawdie::gateway::OutboundThroughput();
  return 0;
}
