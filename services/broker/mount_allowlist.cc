#include "services/broker/mount_allowlist.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "common/logging.h"
#include "nlohmann/json.hpp"

namespace clawdie::broker {
namespace {

// Names that never appear in a mounted path, nor directly inside a mounted folder.
constexpr const char* kBuiltinBlocked[] = {
    ".ssh",       ".gnupg", ".aws",        ".azure",           ".kube",       ".docker",
    ".env",       ".netrc", "credentials", "id_rsa",           "id_dsa",      "id_ecdsa",
    "id_ed25519", ".npmrc", ".pypirc",     ".git-credentials", "private_key", ".password-store",
};

// Suffixes of private key files.
constexpr const char* kBlockedSuffixes[] = {".pem", ".key", ".p12", ".pfx"};

std::string LowerName(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream stream(path);
  std::string part;
  while (std::getline(stream, part, '/')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// True if `path` equals `base` or lies inside it. Both are absolute, normalised.
bool IsWithin(const std::string& path, const std::string& base) {
  if (base == "/") return true;
  return path == base || (path.size() > base.size() && path.compare(0, base.size(), base) == 0 &&
                          path[base.size()] == '/');
}

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char buffer[PATH_MAX];
  if (::realpath(path.c_str(), buffer) == nullptr) {
    return absl::NotFoundError("resolve " + path + ": " + strerror(errno));
  }
  return std::string(buffer);
}

// Resolves a path that may not exist yet (a protected directory before first
// start): the real path if it exists, else the path itself.
std::string RealPathOrSelf(const std::string& path) {
  auto real = RealPath(path);
  return real.ok() ? *real : path;
}

absl::StatusOr<nlohmann::json> ParseJson(const std::string& text, const std::string& source) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError("parse mount allowlist " + source + ": not a JSON object");
  }
  return json;
}

absl::Status ReadRoots(const nlohmann::json& json, const std::string& source,
                       std::vector<AllowedRoot>* roots) {
  auto it = json.find("allowedRoots");
  if (it == json.end()) return absl::OkStatus();
  if (!it->is_array()) {
    return absl::InvalidArgumentError("parse mount allowlist " + source +
                                      ": allowedRoots is not an array");
  }
  for (const auto& entry : *it) {
    if (!entry.is_object() || !entry.contains("path") || !entry["path"].is_string()) {
      return absl::InvalidArgumentError("parse mount allowlist " + source +
                                        ": every allowedRoots entry needs a string path");
    }
    auto real = RealPath(ExpandHome(entry["path"].get<std::string>()));
    if (!real.ok()) {
      GetLogger("broker")->warn("mount allowlist {}: root dropped: {}", source,
                                std::string(real.status().message()));
      continue;
    }
    AllowedRoot root;
    root.path = *real;
    root.allow_read_write = entry.value("allowReadWrite", false);
    root.description = entry.value("description", "");
    roots->push_back(std::move(root));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidMountName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name == "." || name == "..") return false;
  if (!std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

std::string ExpandHome(const std::string& path) {
  if (path != "~" && path.rfind("~/", 0) != 0) return path;
  const char* home = ::getenv("HOME");
  std::string base = home != nullptr ? home : "/";
  return base + path.substr(1);
}

absl::StatusOr<MountAllowlist> MountAllowlist::Load(const std::string& path,
                                                    std::vector<std::string> protected_paths) {
  std::ifstream file(path);
  if (!file.is_open()) {
    if (errno == ENOENT) {
      MountAllowlist empty;
      empty.protected_paths_ = std::move(protected_paths);
      return empty;
    }
    return absl::InvalidArgumentError("read mount allowlist " + path + ": " + strerror(errno));
  }
  std::stringstream text;
  text << file.rdbuf();
  protected_paths.push_back(path);
  return Parse(text.str(), path, std::move(protected_paths));
}

absl::StatusOr<MountAllowlist> MountAllowlist::Parse(const std::string& text,
                                                     const std::string& source,
                                                     std::vector<std::string> protected_paths) {
  auto json = ParseJson(text, source);
  if (!json.ok()) return json.status();

  MountAllowlist allowlist;
  if (auto status = ReadRoots(*json, source, &allowlist.roots_); !status.ok()) return status;
  for (const auto& pattern : json->value("blockedPatterns", nlohmann::json::array())) {
    if (pattern.is_string())
      allowlist.blocked_patterns_.push_back(LowerName(pattern.get<std::string>()));
  }
  allowlist.non_main_read_only_ = json->value("nonMainReadOnly", true);
  for (const auto& path : protected_paths) {
    if (!path.empty()) allowlist.protected_paths_.push_back(RealPathOrSelf(path));
  }
  return allowlist;
}

bool MountAllowlist::IsBlockedName(const std::string& component) const {
  std::string lower = LowerName(component);
  for (const char* blocked : kBuiltinBlocked) {
    if (lower == blocked) return true;
  }
  for (const char* suffix : kBlockedSuffixes) {
    if (EndsWith(lower, suffix)) return true;
  }
  return std::find(blocked_patterns_.begin(), blocked_patterns_.end(), lower) !=
         blocked_patterns_.end();
}

absl::Status MountAllowlist::CheckBlocked(const std::string& real_path,
                                          const std::string& display) const {
  for (const auto& component : Components(real_path)) {
    if (IsBlockedName(component)) {
      return absl::PermissionDeniedError("mount " + display + ": blocked component " + component);
    }
  }
  // A folder that directly holds credentials (a home directory) is refused whole.
  DIR* dir = ::opendir(real_path.c_str());
  absl::Status status = absl::OkStatus();
  while (struct dirent* entry = dir != nullptr ? ::readdir(dir) : nullptr) {
    if (IsBlockedName(entry->d_name)) {
      status = absl::PermissionDeniedError("mount " + display + ": contains blocked entry " +
                                           entry->d_name);
      break;
    }
  }
  if (dir != nullptr) ::closedir(dir);
  if (!status.ok()) return status;

  for (const auto& guarded : protected_paths_) {
    if (IsWithin(real_path, guarded) || IsWithin(guarded, real_path)) {
      return absl::PermissionDeniedError("mount " + display + ": overlaps protected path " +
                                         guarded);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ValidatedMount> MountAllowlist::Check(const MountRequest& request,
                                                     bool is_main) const {
  const std::string& display = request.host_path;
  if (!IsValidMountName(request.name)) {
    return absl::InvalidArgumentError("mount " + display + ": invalid name \"" + request.name +
                                      "\"");
  }
  std::string expanded = ExpandHome(request.host_path);
  if (expanded.empty() || expanded[0] != '/') {
    return absl::InvalidArgumentError("mount " + display + ": path is not absolute");
  }
  auto real = RealPath(expanded);
  if (!real.ok()) return absl::PermissionDeniedError("mount " + display + ": does not exist");
  if (*real == "/") return absl::PermissionDeniedError("mount " + display + ": refusing /");
  if (auto status = CheckBlocked(*real, display); !status.ok()) return status;

  const AllowedRoot* root = nullptr;
  for (const auto& candidate : roots_) {
    if (IsWithin(*real, candidate.path)) {
      root = &candidate;
      break;
    }
  }
  if (root == nullptr) {
    return absl::PermissionDeniedError("mount " + display + ": not under an allowed root");
  }

  ValidatedMount mount;
  mount.host_path = *real;
  mount.sandbox_path = "/workspace/extra/" + request.name;
  mount.read_write =
      request.read_write && root->allow_read_write && (is_main || !non_main_read_only_);
  return mount;
}

}  // namespace clawdie::broker
