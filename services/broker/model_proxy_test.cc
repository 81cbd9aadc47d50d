#include "services/broker/model_proxy.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <condition_variable>
#include <fstream>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "httplib.h"
#include "services/broker/broker_test_util.h"

namespace clawdie::broker {
namespace {

using testing::TempDir;

std::string ReadFixture(const std::string& name) {
  std::ifstream file(std::string(CLAWDIE_SHARED_FIXTURES) + "/anthropic/" + name);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A provider on loopback that records what reached it and answers with the
// text_reply.sse stream in two halves; the second half waits for Release().
class FakeProvider {
 public:
  FakeProvider() : sse_(ReadFixture("text_reply.sse")) {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu_);
        api_key_ = req.get_header_value("x-api-key");
        authorization_ = req.get_header_value("Authorization");
        anthropic_version_ = req.get_header_value("anthropic-version");
        body_ = req.body;
        path_ = req.path;
      }
      res.set_chunked_content_provider("text/event-stream",
                                       [this](size_t, httplib::DataSink& sink) {
                                         size_t half = sse_.size() / 2;
                                         sink.write(sse_.data(), half);
                                         WaitForRelease();
                                         sink.write(sse_.data() + half, sse_.size() - half);
                                         sink.done();
                                         return true;
                                       });
    };
    server_.Post("/v1/messages", handler);
    server_.Post("/v1/chat/completions", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeProvider() {
    Release();
    server_.stop();
    thread_.join();
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& sse() const { return sse_; }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  std::string api_key() {
    std::lock_guard lock(mu_);
    return api_key_;
  }
  std::string authorization() {
    std::lock_guard lock(mu_);
    return authorization_;
  }
  std::string anthropic_version() {
    std::lock_guard lock(mu_);
    return anthropic_version_;
  }
  std::string body() {
    std::lock_guard lock(mu_);
    return body_;
  }

 private:
  void WaitForRelease() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [this] { return released_; });
  }

  const std::string sse_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::string api_key_, authorization_, anthropic_version_, body_, path_;
};

// A raw HTTP client on the proxy's Unix socket.
class RawClient {
 public:
  explicit RawClient(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    EXPECT_EQ(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  void Send(const std::string& data) {
    EXPECT_EQ(::write(fd_.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }
  // Reads until `needle` appeared or the connection closed.
  std::string ReadUntil(const std::string& needle) {
    while (received_.find(needle) == std::string::npos) {
      char buffer[4096];
      ssize_t n = ::read(fd_.get(), buffer, sizeof(buffer));
      if (n <= 0) break;
      received_.append(buffer, n);
    }
    return received_;
  }
  std::string ReadAll() { return ReadUntil(std::string(1, '\0') + "never"); }

 private:
  UniqueFd fd_;
  std::string received_;
};

std::string Post(const std::string& target, const std::string& body,
                 const std::string& extra_headers = "") {
  return "POST " + target + " HTTP/1.1\r\nHost: model\r\nContent-Type: application/json\r\n" +
         "anthropic-version: 2023-06-01\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

class ModelProxyTest : public ::testing::Test {
 protected:
  std::unique_ptr<ModelProxy> StartProxy(const std::string& provider = "anthropic") {
    ModelProviderConfig config;
    config.provider = provider;
    config.base_url = provider_.base_url();
    config.api_key = "sk-ant-proxy-secret";
    auto proxy = ModelProxy::Start(socket_path_, config);
    EXPECT_TRUE(proxy.ok()) << proxy.status();
    return proxy.ok() ? *std::move(proxy) : nullptr;
  }

  TempDir dir_;
  std::string socket_path_ = dir_.path() + "/model.sock";
  FakeProvider provider_;
};

TEST_F(ModelProxyTest, AddsTheKeyAndStreamsTheAnswerThrough) {
  auto proxy = StartProxy();
  RawClient client(socket_path_);
  std::string body = R"({"model":"claude","stream":true,"messages":[]})";
  client.Send(Post("/v1/messages", body, "x-api-key: sk-stolen-by-agent\r\n"));

  // The first half arrives while the provider still holds back the rest.
  std::string first = client.ReadUntil("\r\n\r\n" + provider_.sse().substr(0, 20));
  EXPECT_EQ(first.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << first;
  EXPECT_NE(first.find("Content-Type: text/event-stream"), std::string::npos);
  provider_.Release();
  std::string all = client.ReadAll();
  EXPECT_EQ(all.substr(all.find("\r\n\r\n") + 4), provider_.sse());

  EXPECT_EQ(provider_.api_key(), "sk-ant-proxy-secret");
  EXPECT_EQ(provider_.anthropic_version(), "2023-06-01");
  EXPECT_EQ(provider_.body(), body);
  EXPECT_EQ(all.find("sk-ant-proxy-secret"), std::string::npos);
}

TEST_F(ModelProxyTest, OpenAiProvidersGetABearerToken) {
  auto proxy = StartProxy("openai");
  provider_.Release();
  RawClient client(socket_path_);
  client.Send(Post("/v1/chat/completions", "{}"));
  EXPECT_EQ(client.ReadAll().rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(provider_.authorization(), "Bearer sk-ant-proxy-secret");
  EXPECT_EQ(provider_.api_key(), "");
}

TEST_F(ModelProxyTest, RefusesOtherPathsHostsAndChunkedBodies) {
  auto proxy = StartProxy();
  auto answer = [&](const std::string& request) {
    RawClient client(socket_path_);
    client.Send(request);
    std::string all = client.ReadAll();
    return all.substr(0, all.find("\r\n"));
  };
  EXPECT_EQ(answer("GET /v1/messages HTTP/1.1\r\nHost: model\r\n\r\n"), "HTTP/1.1 403 Forbidden");
  EXPECT_EQ(answer(Post("/v1/files", "{}")), "HTTP/1.1 403 Forbidden");
  EXPECT_EQ(answer(Post("http://evil.example/v1/messages", "{}")), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(answer("POST /v1/messages HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            "HTTP/1.1 411 Length Required");
  EXPECT_TRUE(provider_.body().empty());
}

TEST_F(ModelProxyTest, UnreachableProviderIsABadGateway) {
  ModelProviderConfig config;
  config.base_url = "http://127.0.0.1:1";
  config.api_key = "sk-ant-proxy-secret";
  auto proxy = ModelProxy::Start(socket_path_, config);
  ASSERT_TRUE(proxy.ok());
  RawClient client(socket_path_);
  client.Send(Post("/v1/messages", "{}"));
  std::string all = client.ReadAll();
  EXPECT_EQ(all.rfind("HTTP/1.1 502 Bad Gateway\r\n", 0), 0u) << all;
  EXPECT_NE(all.find("model provider unreachable"), std::string::npos);
  EXPECT_EQ(all.find("sk-ant-proxy-secret"), std::string::npos);
}

TEST_F(ModelProxyTest, StopRemovesTheSocket) {
  auto proxy = StartProxy();
  EXPECT_TRUE(std::filesystem::exists(socket_path_));
  proxy.reset();
  EXPECT_FALSE(std::filesystem::exists(socket_path_));
}

}  // namespace
}  // namespace clawdie::broker
