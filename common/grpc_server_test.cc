#include "common/grpc_server.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/grpc_client.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"

namespace clawdie {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

std::string TempDir() {
  char dir[] = "/tmp/clawdie_srv_XXXXXX";
  return mkdtemp(dir);
}

// Returns the health of `service` at `target`, or -1 when the call fails.
int CheckHealth(const std::string& target, const std::string& service,
                absl::Duration timeout = absl::Seconds(5)) {
  auto channel = MakeChannel({.target = target, .insecure = true});
  if (!channel.ok()) return -1;
  auto stub = Health::NewStub(*channel);
  grpc::ClientContext context;
  PrepareContext(&context, timeout);
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  return status.ok() ? static_cast<int>(response.status()) : -1;
}

TEST(ListenAddressTest, AcceptsUnixAndTcp) {
  auto unix_address = ParseListenAddress("unix:/run/clawdie/store.sock");
  ASSERT_TRUE(unix_address.ok());
  EXPECT_TRUE(unix_address->is_unix);
  EXPECT_EQ(unix_address->path, "/run/clawdie/store.sock");

  auto tcp = ParseListenAddress("[::1]:7000");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(tcp->host, "::1");
  EXPECT_EQ(tcp->port, "7000");
}

TEST(ListenAddressTest, RejectsRelativeLongAndPortless) {
  EXPECT_EQ(ParseListenAddress("unix:run/x.sock").status().message(),
            "listen address unix:run/x.sock: Unix socket path must be absolute (unix:/path)");
  std::string long_path = "unix:/" + std::string(110, 'a');
  EXPECT_EQ(ParseListenAddress(long_path).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseListenAddress("localhost").status().message(),
            "listen address localhost: expected unix:/path or host:port");
}

TEST(ListenAddressTest, LoopbackDetection) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.5.0.1"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
}

TEST(GrpcServerTest, UnixSocketPermissionsHealthAndSecondInstance) {
  std::string dir = TempDir() + "/run";
  std::string socket = dir + "/test.sock";
  GrpcServer server({.name = "test", .listen = "unix:" + socket});
  ASSERT_TRUE(server.Start().ok());

  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  ASSERT_EQ(stat(socket.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);

  EXPECT_EQ(CheckHealth("unix:" + socket, ""), HealthCheckResponse::NOT_SERVING);
  server.SetServing(true);
  EXPECT_EQ(CheckHealth("unix:" + socket, ""), HealthCheckResponse::SERVING);

  // A second instance in another process must refuse and leave the live socket alone.
  pid_t child = fork();
  if (child == 0) {
    GrpcServer second({.name = "test", .listen = "unix:" + socket});
    absl::Status status = second.Start();
    bool refused = status.code() == absl::StatusCode::kFailedPrecondition &&
                   std::string(status.message()).find("already running") != std::string::npos;
    _exit(refused ? 0 : 1);
  }
  int wait_status = 0;
  waitpid(child, &wait_status, 0);
  EXPECT_EQ(WEXITSTATUS(wait_status), 0);
  EXPECT_EQ(CheckHealth("unix:" + socket, ""), HealthCheckResponse::SERVING);
  server.Shutdown();
}

TEST(GrpcServerTest, StaleSocketFromDeadInstanceIsReplaced) {
  std::string dir = TempDir();
  std::string socket = dir + "/stale.sock";
  // A socket file nobody listens on, as a SIGKILLed instance leaves behind.
  pid_t child = fork();
  if (child == 0) {
    GrpcServer dead({.name = "test", .listen = "unix:" + socket});
    if (!dead.Start().ok()) _exit(1);
    _exit(0);  // no cleanup, like SIGKILL
  }
  int wait_status = 0;
  waitpid(child, &wait_status, 0);
  ASSERT_EQ(WEXITSTATUS(wait_status), 0);
  ASSERT_EQ(access(socket.c_str(), F_OK), 0);

  GrpcServer server({.name = "test", .listen = "unix:" + socket});
  ASSERT_TRUE(server.Start().ok());
  server.SetServing(true);
  EXPECT_EQ(CheckHealth("unix:" + socket, ""), HealthCheckResponse::SERVING);
}

TEST(GrpcServerTest, TcpNeedsTlsUnlessLoopbackAndInsecure) {
  GrpcServer plain({.name = "test", .listen = "0.0.0.0:0"});
  absl::Status status = plain.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("TCP requires mutual TLS"), std::string::npos);

  GrpcServer open({.name = "test", .listen = "0.0.0.0:0", .insecure = true});
  EXPECT_EQ(open.Start().code(), absl::StatusCode::kInvalidArgument);

  GrpcServer loopback({.name = "test", .listen = "127.0.0.1:0", .insecure = true});
  ASSERT_TRUE(loopback.Start().ok());
  ASSERT_GT(loopback.bound_port(), 0);
  loopback.SetServing(true);
  EXPECT_EQ(CheckHealth("127.0.0.1:" + std::to_string(loopback.bound_port()), ""),
            HealthCheckResponse::SERVING);
}

TEST(GrpcServerTest, RequestShutdownEndsWait) {
  std::string socket = TempDir() + "/w.sock";
  GrpcServer server({.name = "test", .listen = "unix:" + socket});
  ASSERT_TRUE(server.Start().ok());
  server.RequestShutdown();
  EXPECT_EQ(server.Wait(), 0);
  EXPECT_EQ(CheckHealth("unix:" + socket, "", absl::Milliseconds(300)), -1);
}

}  // namespace
}  // namespace clawdie
