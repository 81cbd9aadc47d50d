// A second dockerd for the broker's tests, listening on a free loopback TCP
// port with TLS client certificates generated for the test
// (tests/fixtures/broker/make-docker-certs.sh), its own bridge and data root,
// and the stand-in image imported. It stands in for a daemon on another
// machine: the TLS test connects to it, the remote-workspace test forces the
// copy of folders through it.
//
// Thread-safety: test-only; one instance per test binary.
#ifndef CLAWDIE_SERVICES_BROKER_DOCKER_TLS_DAEMON_H_
#define CLAWDIE_SERVICES_BROKER_DOCKER_TLS_DAEMON_H_

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "services/broker/docker_test_util.h"
#include "services/broker/process_launcher.h"

namespace clawdie::broker::testing {

inline int FreePort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t length = sizeof(addr);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &length);
  return ntohs(addr.sin_port);
}

// A dockerd listening on 127.0.0.1:<port> with TLS; error() says why it is not usable.
class TlsDaemon {
 public:
  TlsDaemon() : host_("tcp://127.0.0.1:" + std::to_string(FreePort())) {
    const std::string& dir = dir_.path();
    std::string certs = std::string(CLAWDIE_TEST_FIXTURES) + "/broker/make-docker-certs.sh " + dir;
    if (std::system(certs.c_str()) != 0) {
      error_ = "generating certificates failed";
      return;
    }
    // Its own bridge: "--bridge none" makes dockerd delete the host's docker0,
    // which the main daemon uses. Its chatter goes to a log file.
    int port = std::stoi(host_.substr(host_.rfind(':') + 1));
    bridge_ = "clbtls" + std::to_string(port);
    std::string subnet = "172.31." + std::to_string(20 + port % 200) + ".1/24";
    std::string script = "ip link add name " + bridge_ + " type bridge && ip addr add " + subnet +
                         " dev " + bridge_ +
                         " && exec dockerd --tlsverify --tlscacert ca.pem --tlscert "
                         "server-cert.pem --tlskey server-key.pem -H " +
                         host_ + " --data-root " + dir + "/data --exec-root " + dir +
                         "/exec --pidfile " + dir + "/docker.pid" + " --bridge " + bridge_ +
                         " --iptables=false --ip-masq=false >dockerd.log 2>&1";
    LaunchOptions launch;
    launch.argv = {"/bin/sh", "-c", script};
    launch.working_dir = dir;
    launch.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    launch.pipes = false;
    auto process = DefaultProcessLauncher().Launch(launch);
    if (!process.ok()) {
      error_ = std::string(process.status().message());
      return;
    }
    pid_ = process->pid;
    error_ = WaitUntilReady();
    if (error_.empty()) error_ = ImportImage();
  }

  ~TlsDaemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (!bridge_.empty()) std::system(("ip link del " + bridge_ + " 2>/dev/null").c_str());
  }

  DockerEndpoint Endpoint(const std::string& cert_dir) const {
    return *MakeDockerEndpoint(host_, true, cert_dir);
  }
  const std::string& error() const { return error_; }
  const std::string& host() const { return host_; }
  std::string cert_dir() const { return dir_.path(); }

 private:
  std::string WaitUntilReady() {
    absl::Status status;
    for (int i = 0; i < 150; ++i) {
      DockerClient client(Endpoint(dir_.path()));
      status = client.Negotiate();
      if (status.ok()) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return "TLS dockerd did not come up: " + std::string(status.message());
  }

  std::string ImportImage() {
    std::string command = "DOCKER_HOST=" + host_ +
                          " DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=" + dir_.path() + " " +
                          CLAWDIE_SOURCE_DIR + "/tests/agent_standin/build-standin-image.sh " +
                          StandinPath() + " " + kStandinImage + " >/dev/null";
    return std::system(command.c_str()) == 0 ? "" : "importing the stand-in image over TLS failed";
  }

  TempDir dir_;
  std::string host_;
  std::string bridge_;
  pid_t pid_ = -1;
  std::string error_;
};

}  // namespace clawdie::broker::testing

#endif  // CLAWDIE_SERVICES_BROKER_DOCKER_TLS_DAEMON_H_
