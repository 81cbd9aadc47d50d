// A Router wired to the in-memory fakes with a fake clock, for the router's unit tests.
//
// Thread-safety: single-threaded test use.
#ifndef CLAWDIE_SERVICES_ROUTER_TESTING_ROUTER_FIXTURE_H_
#define CLAWDIE_SERVICES_ROUTER_TESTING_ROUTER_FIXTURE_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/router/router.h"
#include "services/router/testing/fakes.h"

namespace clawdie::router::testing {

class RouterFixture : public ::testing::Test {
 protected:
  // 2026-01-09 09:00:00 UTC, a Friday.
  static constexpr int64_t kStart = 1767949200;

  RouterFixture() : clock_(absl::FromUnixSeconds(kStart)), executor_(&clock_), store_(&clock_) {}

  void SetUp() override {
    main_ = store_.AddGroup("main", "tg:111", /*is_main=*/true, /*requires_trigger=*/false, "UTC");
    family_ = store_.AddGroup("family", "tg:-100222", false, true, "Europe/Stockholm");
    work_ = store_.AddGroup("work", "tg:-100333", false, true, "UTC");
  }

  static RouterOptions Options() {
    RouterOptions options;
    options.max_concurrent_agents = 5;
    options.idle_timeout = absl::Minutes(30);
    options.scheduler_owner = "router@test";
    options.task_lease = absl::Minutes(40);
    options.scheduler_poll = absl::Seconds(5);
    return options;
  }

  // (Re)creates the router on the same store, as a restarted process would, with `broker`.
  void StartRouter(RouterOptions options = Options(), FakeBroker* broker = nullptr) {
    if (router_ != nullptr) {
      // The previous process "crashed": its timers die with it; the object is kept so
      // pointers the fakes hold stay valid.
      executor_.DropAll();
      crashed_.push_back(std::move(router_));
    }
    router_ = std::make_unique<Router>(options, &store_, broker ? broker : &broker_, &gateway_,
                                       &clock_, &executor_);
    ASSERT_TRUE(router_->Start().ok());
    executor_.RunUntilIdle();
  }

  // What the gateway would send for a text message from `sender` now.
  pb::IngestRequest IngestRequest(const std::string& chat, const std::string& id,
                                  const std::string& text, const std::string& sender = "Mara") {
    pb::IngestRequest request;
    pb::Message* message = request.mutable_message();
    message->set_chat_jid(chat);
    message->set_platform_message_id(id);
    message->set_sender_id("u-" + sender);
    message->set_sender_name(sender);
    message->set_text(text);
    message->mutable_time()->set_seconds(absl::ToUnixSeconds(clock_.Now()));
    request.mutable_chat()->set_jid(chat);
    return request;
  }

  // Ingests the message and runs what it set off.
  pb::IngestResponse Ingest(const std::string& chat, const std::string& id, const std::string& text,
                            const std::string& sender = "Mara") {
    absl::StatusOr<pb::IngestResponse> response =
        router_->Ingest(IngestRequest(chat, id, text, sender));
    EXPECT_TRUE(response.ok()) << response.status();
    executor_.RunUntilIdle();
    return response.ok() ? *response : pb::IngestResponse();
  }

  static nlohmann::json StartJson(const FakeRun* run) {
    return nlohmann::json::parse(run->spec.start_json(), nullptr, false);
  }

  static std::string Prompt(const FakeRun* run) {
    return StartJson(run).value("prompt", std::string("<no prompt>"));
  }

  void Finish(FakeRun* run, const std::string& status = "success", const std::string& error = "") {
    broker_.Finish(run, status, error);
    executor_.RunUntilIdle();
  }

  FakeClock clock_;
  ManualExecutor executor_;
  FakeStore store_;
  FakeBroker broker_;
  FakeGateway gateway_;
  std::unique_ptr<Router> router_;
  std::vector<std::unique_ptr<Router>> crashed_;
  pb::Group main_;
  pb::Group family_;
  pb::Group work_;
};

}  // namespace clawdie::router::testing

#endif  // CLAWDIE_SERVICES_ROUTER_TESTING_ROUTER_FIXTURE_H_
