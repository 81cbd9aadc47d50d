// clawdie-agent-standin: a stand-in for clawdie-agent used by the broker's
// tests. It speaks the sandbox contract (DESIGN.md §6): reads the start object
// and later lines from stdin and answers with JSON event lines on stdout.
// Start prompts beginning with "standin:" make it misbehave on purpose so that
// every way a run can end is exercised:
//
//   (any other prompt)        output "echo: <prompt>", then echo follow-ups
//   standin:sleep S           output "sleeping S", sleep S seconds, then echo
//   standin:silent            write nothing and never exit
//   standin:tick MS           output "tick N" every MS milliseconds, forever
//   standin:flood             write output events to stdout without end
//   standin:flood-stderr      write to stderr without end
//   standin:stderr N          write N stderr lines, then echo
//   standin:forkbomb          fork until fork fails, report the count
//   standin:alloc MIB         allocate and touch MIB MiB, report, exit
//   standin:env               output the environment, one VAR=value per line
//   standin:connect P...      try to connect to each Unix socket path
//   standin:ps                output every process's command line from /proc
//   standin:read PATH         output the content of PATH
//   standin:write PATH TEXT   write TEXT to PATH
//   standin:list DIR          output "<name> <file|dir|symlink|other>" per entry of DIR, sorted
//   standin:symlink T PATH    create PATH as a symbolic link to T
//   standin:hardlink T PATH   create PATH as a hard link to T
//   standin:tool              emit a tool_call, then echo
//   standin:exit N            exit with code N without a done event
//   standin:spawn-and-exit    leave a child holding stdout, then exit 0
//   standin:model             POST to the model proxy socket, output the reply
//
// A follow-up message that begins with "standin:" runs like a start prompt, so
// one run can do several of these in order.
//
// Single-threaded; not part of any service.
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"

extern char** environ;

namespace {

using Json = nlohmann::json;

void Emit(const Json& event) {
  std::cout << event.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n" << std::flush;
}

void Output(const std::string& text) { Emit({{"type", "output"}, {"text", text}}); }

void Done(const std::string& status) { Emit({{"type", "done"}, {"status", status}}); }

[[noreturn]] void SleepForever() {
  while (true) ::pause();
}

std::string Rest(const std::string& prompt, size_t skip) {
  return prompt.size() > skip ? prompt.substr(skip) : "";
}

void ForkBomb() {
  int forks = 0;
  while (forks < 100000) {
    pid_t pid = ::fork();
    if (pid < 0) {
      Output("forkbomb: " + std::to_string(forks) + " forks, then " + strerror(errno));
      return;
    }
    if (pid == 0) SleepForever();
    ++forks;
  }
  Output("forkbomb: " + std::to_string(forks) + " forks, never refused");
}

void Alloc(long mib) {
  std::vector<char*> blocks;
  for (long i = 0; i < mib; ++i) {
    char* block = static_cast<char*>(std::malloc(1 << 20));
    if (block == nullptr) {
      Output("alloc: malloc failed after " + std::to_string(i) + " MiB");
      return;
    }
    memset(block, 1, 1 << 20);
    blocks.push_back(block);
  }
  Output("alloc: " + std::to_string(mib) + " MiB");
}

void PrintEnvironment() {
  std::string text;
  for (char** entry = environ; *entry != nullptr; ++entry) text += std::string(*entry) + "\n";
  Output(text);
}

int ConnectUnix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

void Connect(const std::string& paths) {
  std::istringstream stream(paths);
  std::string path, text;
  while (stream >> path) {
    int fd = ConnectUnix(path);
    text += path + ": " + (fd >= 0 ? std::string("connected") : strerror(errno)) + "\n";
    if (fd >= 0) ::close(fd);
  }
  Output(text);
}

void ListProcesses() {
  std::vector<long> pids;
  DIR* proc = ::opendir("/proc");
  while (struct dirent* entry = proc != nullptr ? ::readdir(proc) : nullptr) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0') pids.push_back(pid);
  }
  if (proc != nullptr) ::closedir(proc);
  std::sort(pids.begin(), pids.end());
  std::string text;
  for (long pid : pids) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    for (char& c : cmdline) c = c == '\0' ? ' ' : c;
    text += std::to_string(pid) + " " + cmdline + "\n";
  }
  Output(text);
}

void ReadPath(const std::string& path) {
  std::ifstream file(path);
  if (!file.is_open()) {
    Output("read " + path + ": " + strerror(errno));
    return;
  }
  std::string content((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  Output(content);
}

void WritePath(const std::string& args) {
  size_t space = args.find(' ');
  std::string path = args.substr(0, space);
  std::string text = space == std::string::npos ? "" : args.substr(space + 1);
  std::ofstream file(path);
  file << text;
  file.close();
  Output(file ? "wrote " + path : "write " + path + ": " + strerror(errno));
}

void ListFolder(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) {
    Output("list " + path + ": " + strerror(errno));
    return;
  }
  std::vector<std::string> lines;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat info = {};
    ::lstat((path + "/" + name).c_str(), &info);
    const char* type = S_ISREG(info.st_mode)   ? "file"
                       : S_ISDIR(info.st_mode) ? "dir"
                       : S_ISLNK(info.st_mode) ? "symlink"
                                               : "other";
    lines.push_back(name + " " + type + "\n");
  }
  ::closedir(dir);
  std::sort(lines.begin(), lines.end());
  std::string text;
  for (const auto& line : lines) text += line;
  Output(text);
}

void MakeLink(const std::string& args, bool symbolic) {
  size_t space = args.find(' ');
  std::string target = args.substr(0, space);
  std::string path = space == std::string::npos ? "" : args.substr(space + 1);
  int result =
      symbolic ? ::symlink(target.c_str(), path.c_str()) : ::link(target.c_str(), path.c_str());
  Output(result == 0 ? "linked " + path : "link " + path + ": " + strerror(errno));
}

// Sends one request to the model proxy and outputs the raw HTTP response.
void AskModel() {
  const char* socket_path = std::getenv("CLAWDIE_MODEL_SOCKET");
  int fd = socket_path ? ConnectUnix(socket_path) : -1;
  if (fd < 0) {
    Output(std::string("model: connect: ") + strerror(errno));
    return;
  }
  std::string body = R"({"model":"test","max_tokens":16,"stream":true,"messages":[]})";
  std::string request =
      "POST /v1/messages HTTP/1.1\r\nHost: model\r\nConnection: close\r\n"
      "Content-Type: application/json\r\nanthropic-version: 2023-06-01\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  ssize_t ignored = ::write(fd, request.data(), request.size());
  (void)ignored;
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
  ::close(fd);
  Output(response);
}

void SpawnAndExit() {
  if (::fork() == 0) {
    ::sleep(60);
    ::_exit(0);
  }
  Output("spawned");
  std::exit(0);
}

// Runs the behaviour a "standin:" prompt asks for. Returns false when the
// prompt asked for nothing special (plain echo).
bool RunCommand(const std::string& prompt) {
  auto is = [&](const char* command) { return prompt.rfind(command, 0) == 0; };
  if (is("standin:sleep ")) {
    Output("sleeping " + Rest(prompt, 14));
    std::this_thread::sleep_for(std::chrono::duration<double>(std::stod(Rest(prompt, 14))));
  } else if (is("standin:silent")) {
    SleepForever();
  } else if (is("standin:tick ")) {
    for (int tick = 0;; ++tick) {
      Output("tick " + std::to_string(tick));
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stol(Rest(prompt, 13))));
    }
  } else if (is("standin:flood-stderr")) {
    std::string line(1024, 'e');
    while (true) std::cerr << line << "\n";
  } else if (is("standin:flood")) {
    std::string text(4096, 'f');
    while (true) Output(text);
  } else if (is("standin:stderr ")) {
    long lines = std::stol(Rest(prompt, 15));
    for (long i = 0; i < lines; ++i) std::cerr << "stderr line " << i << "\n";
    std::cerr << std::flush;
  } else if (is("standin:forkbomb")) {
    ForkBomb();
  } else if (is("standin:alloc ")) {
    Alloc(std::stol(Rest(prompt, 14)));
    std::exit(0);
  } else if (is("standin:env")) {
    PrintEnvironment();
  } else if (is("standin:connect ")) {
    Connect(Rest(prompt, 16));
  } else if (is("standin:ps")) {
    ListProcesses();
  } else if (is("standin:read ")) {
    ReadPath(Rest(prompt, 13));
  } else if (is("standin:write ")) {
    WritePath(Rest(prompt, 14));
  } else if (is("standin:list ")) {
    ListFolder(Rest(prompt, 13));
  } else if (is("standin:symlink ")) {
    MakeLink(Rest(prompt, 16), /*symbolic=*/true);
  } else if (is("standin:hardlink ")) {
    MakeLink(Rest(prompt, 17), /*symbolic=*/false);
  } else if (is("standin:tool")) {
    Emit({{"type", "tool_call"},
          {"id", "t1"},
          {"name", "send_message"},
          {"input", {{"text", "hi"}}}});
  } else if (is("standin:exit ")) {
    std::exit(std::stoi(Rest(prompt, 13)));
  } else if (is("standin:spawn-and-exit")) {
    SpawnAndExit();
  } else if (is("standin:model")) {
    AskModel();
  } else {
    return false;
  }
  return true;
}

// Answers one later stdin line. Returns false on close.
bool HandleLine(const std::string& line) {
  Json json = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    std::cerr << "standin: ignoring a line that is not a JSON object\n";
    return true;
  }
  std::string type = json.value("type", "");
  if (type == "close") return false;
  if (type == "message") {
    std::string text = json.value("text", "");
    if (text.rfind("standin:", 0) != 0 || !RunCommand(text)) Output("echo: " + text);
  } else if (type == "tool_result") {
    Output("tool_result " + json.value("id", "") +
           " ok=" + (json.value("ok", false) ? "true" : "false") + " " + json.value("content", ""));
  } else {
    std::cerr << "standin: unknown input type " << type << "\n";
  }
  return true;
}

}  // namespace

int main() {
  std::string line;
  if (!std::getline(std::cin, line)) {
    std::cerr << "standin: no start line\n";
    return 2;
  }
  Json start = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (start.is_discarded() || !start.is_object()) {
    std::cerr << "standin: start line is not a JSON object\n";
    return 2;
  }
  std::string prompt = start.value("prompt", "");
  if (prompt.rfind("standin:silent", 0) != 0) {
    std::string session = start.value("sessionId", "");
    Emit({{"type", "session"}, {"sessionId", session.empty() ? "standin-session" : session}});
  }
  if (!RunCommand(prompt)) Output("echo: " + prompt);

  while (std::getline(std::cin, line)) {
    if (!HandleLine(line)) break;
  }
  Done("success");
  return 0;
}
