#include "tests/model_server/model_server.h"

#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "container/http_stream.h"
#include "gtest/gtest.h"

namespace clawdie::testing {
namespace {

using agent::HttpResult;
using agent::HttpTarget;
using nlohmann::json;

const std::filesystem::path kFixtures = CLAWDIE_SHARED_FIXTURES;

std::string ReadWhole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string TempDir() {
  char pattern[] = "/tmp/cms-XXXXXX";
  return mkdtemp(pattern);
}

struct Fetched {
  HttpResult result;
  std::string body;
};

Fetched Post(const ModelServer& server, const std::string& path, const std::string& body) {
  agent::CurlGlobalInit();
  HttpTarget target{server.unix_path(), server.base_url()};
  Fetched fetched;
  fetched.result = agent::PostStreaming(target, {path, {"content-type: application/json"}, body},
                                        [&](std::string_view piece) { fetched.body += piece; });
  return fetched;
}

size_t Collect(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

std::string Get(const std::string& url) {
  std::string body;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  return body;
}

ModelServerScript Script(const json& script) {
  absl::StatusOr<ModelServerScript> parsed = ParseScript(script, kFixtures);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : ModelServerScript{};
}

TEST(ModelServerTest, ReplaysFixturesInOrderOverUnixSocket) {
  std::string dir = TempDir();
  auto server = ModelServer::Start("unix:" + dir + "/model.sock",
                                   Script({{"responses",
                                            {{{"file", "anthropic/text_reply.sse"}},
                                             {{"file", "anthropic/after_tool_result.sse"}}}}}));
  ASSERT_TRUE(server.ok()) << server.status();

  Fetched first = Post(**server, "/v1/messages", R"({"n":1})");
  Fetched second = Post(**server, "/v1/messages", R"({"n":2})");

  EXPECT_EQ(first.result.status, 200);
  EXPECT_EQ(first.body, ReadWhole(kFixtures / "anthropic/text_reply.sse"));
  EXPECT_EQ(first.result.headers["content-type"], "text/event-stream");
  EXPECT_EQ(second.body, ReadWhole(kFixtures / "anthropic/after_tool_result.sse"));
  std::vector<RecordedRequest> requests = (*server)->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].body, R"({"n":1})");
  EXPECT_EQ(requests[1].body, R"({"n":2})");
  EXPECT_EQ(requests[1].path, "/v1/messages");
}

TEST(ModelServerTest, ServesNamedErrorCaseWithStatusAndHeaders) {
  auto server = ModelServer::Start(
      "127.0.0.1:0",
      Script({{"responses", {{{"file", "anthropic/http_errors.json#rate_limited"}}}}}));
  ASSERT_TRUE(server.ok()) << server.status();

  Fetched fetched = Post(**server, "/v1/messages", "{}");

  EXPECT_EQ(fetched.result.status, 429);
  EXPECT_EQ(fetched.result.headers["retry-after"], "2");
  EXPECT_EQ(json::parse(fetched.result.error_body)["error"]["type"], "rate_limit_error");
}

TEST(ModelServerTest, CutAfterClosesMidBodyAndClientSeesPartialTransfer) {
  auto server = ModelServer::Start(
      "127.0.0.1:0",
      Script({{"responses", {{{"file", "anthropic/text_reply.sse"}, {"cut_after", 100}}}}}));
  ASSERT_TRUE(server.ok()) << server.status();

  Fetched fetched = Post(**server, "/v1/messages", "{}");

  EXPECT_EQ(fetched.body.size(), 100u);
  EXPECT_NE(fetched.result.curl_code, 0);
}

TEST(ModelServerTest, FixedTextAnswersBothFormatsAndExhaustedScriptIs500) {
  ModelServerScript script;
  script.fixed_text = "pong";
  auto fixed = ModelServer::Start("127.0.0.1:0", script);
  auto empty = ModelServer::Start("127.0.0.1:0", ModelServerScript{});
  ASSERT_TRUE(fixed.ok() && empty.ok());

  Fetched anthropic = Post(**fixed, "/v1/messages", "{}");
  Fetched openai = Post(**fixed, "/v1/chat/completions", "{}");
  Fetched exhausted = Post(**empty, "/v1/messages", "{}");

  EXPECT_EQ(anthropic.body, FixedTextStream("/v1/messages", "pong"));
  EXPECT_NE(anthropic.body.find(R"("text":"pong")"), std::string::npos);
  EXPECT_NE(openai.body.find(R"("content":"pong")"), std::string::npos);
  EXPECT_NE(openai.body.find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(exhausted.result.status, 500);
}

TEST(ModelServerTest, ReplaceRewritesFixtureText) {
  auto server = ModelServer::Start(
      "127.0.0.1:0", Script({{"responses",
                              {{{"file", "anthropic/tool_use_bash.sse"},
                                {"replace", {{"/workspace/group", "/tmp/elsewhere"}}}}}}}));
  ASSERT_TRUE(server.ok());

  Fetched fetched = Post(**server, "/v1/messages", "{}");

  EXPECT_EQ(fetched.body.find("/workspace/group"), std::string::npos);
  EXPECT_NE(fetched.body.find("/tmp/elsewhere\\\"}"), std::string::npos);
}

TEST(ModelServerTest, RequestsAreLoggedToFileAndServedAtTestEndpoint) {
  std::string dir = TempDir();
  ModelServerScript script;
  script.fixed_text = "ok";
  auto server = ModelServer::Start("127.0.0.1:0", script, dir + "/requests.jsonl");
  ASSERT_TRUE(server.ok());

  Post(**server, "/v1/messages", R"({"hello":"world"})");
  std::string listing = Get((*server)->base_url() + "/_test/requests");

  json logged = json::parse(ReadWhole(dir + "/requests.jsonl"));
  EXPECT_EQ(logged["body"], R"({"hello":"world"})");
  EXPECT_EQ(logged["path"], "/v1/messages");
  json served = json::parse(listing);
  ASSERT_EQ(served.size(), 1u);
  EXPECT_EQ(served[0]["body"], R"({"hello":"world"})");
}

// The binary other components' tests start: script file, fixtures flag, ready file, SIGTERM.
TEST(ModelServerBinaryTest, ServesScriptThenFixedTextAndStopsOnSigterm) {
  std::string binary =
      std::string(CLAWDIE_BINARY_DIR) + "/tests/model_server/clawdie-test-model-server";
  ASSERT_TRUE(std::filesystem::exists(binary)) << binary << " is missing: build it first";
  std::string dir = TempDir();
  std::ofstream(dir + "/script.json")
      << R"({"responses":[{"file":"anthropic/http_errors.json#unauthorized"}],"fixed_text":"hey"})";
  pid_t pid = fork();
  if (pid == 0) {
    std::string fixtures = kFixtures.string();
    execl(binary.c_str(), binary.c_str(), "--listen", ("unix:" + dir + "/m.sock").c_str(),
          "--script", (dir + "/script.json").c_str(), "--fixtures", fixtures.c_str(),
          "--ready-file", (dir + "/ready").c_str(), "--request-log", (dir + "/log.jsonl").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 500 && !std::filesystem::exists(dir + "/ready"); ++i) usleep(10000);
  ASSERT_EQ(ReadWhole(dir + "/ready"), "unix:" + dir + "/m.sock\n");

  agent::CurlGlobalInit();
  HttpTarget target{dir + "/m.sock", ""};
  std::string body;
  HttpResult first = agent::PostStreaming(target, {"/v1/messages", {}, "{\"a\":1}"},
                                          [&](std::string_view piece) { body += piece; });
  HttpResult second = agent::PostStreaming(target, {"/v1/messages", {}, "{\"a\":2}"},
                                           [&](std::string_view piece) { body += piece; });
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);

  EXPECT_EQ(first.status, 401);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(body, FixedTextStream("/v1/messages", "hey"));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::ifstream log(dir + "/log.jsonl");
  std::string line;
  std::vector<std::string> bodies;
  while (std::getline(log, line)) bodies.push_back(json::parse(line)["body"]);
  EXPECT_EQ(bodies, (std::vector<std::string>{"{\"a\":1}", "{\"a\":2}"}));
}

TEST(ModelServerTest, BadScriptEntryIsReportedWithItsIndex) {
  absl::StatusOr<ModelServerScript> parsed = ParseScript(
      {{"responses", {{{"file", "anthropic/text_reply.sse"}}, {{"file", "nope.sse"}}}}}, kFixtures);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("response 1"), std::string::npos);
}

TEST(ModelServerTest, AckTextNamesTheTokensOfTheLastUserTurnOnly) {
  nlohmann::json anthropic = {{"messages",
                               {{{"role", "user"}, {"content", "first m1-1"}},
                                {{"role", "assistant"}, {"content", "ack m1-1"}},
                                {{"role", "user"},
                                 {"content",
                                  {{{"type", "tool_result"}, {"content", "m9-9"}},
                                   {{"type", "text"}, {"text", "<m>m1-2</m><m>m1-3</m>"}}}}}}}};
  EXPECT_EQ(AckText(anthropic.dump(), "m[0-9]+-[0-9]+"), "ack m1-2 m1-3");
  nlohmann::json none = {{"messages", {{{"role", "user"}, {"content", "hello"}}}}};
  EXPECT_EQ(AckText(none.dump(), "m[0-9]+-[0-9]+"), "ack");
  EXPECT_FALSE(ParseScript({{"ack_pattern", "m[0-"}}, "").ok());
}

}  // namespace
}  // namespace clawdie::testing
