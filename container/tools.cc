// The built-in tools; see tools.h.
#include "container/tools.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "container/bash_tool.h"
#include "container/json_util.h"

namespace clawdie::agent {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxReadBytes = 4 * 1024 * 1024;
constexpr size_t kMaxListEntries = 2000;
constexpr size_t kMaxGrepMatches = 500;
constexpr uintmax_t kMaxGrepFileBytes = 4 * 1024 * 1024;

ToolOutcome Error(std::string text) { return {std::move(text), true}; }

// Reads a whole file, refusing very large ones.
std::optional<std::string> Slurp(const fs::path& path, std::string* error) {
  std::error_code ec;
  uintmax_t size = fs::file_size(path, ec);
  if (ec) {
    *error = "read " + path.string() + ": " + ec.message();
    return std::nullopt;
  }
  if (size > kMaxReadBytes) {
    *error = "read " + path.string() + ": file is " + std::to_string(size) +
             " bytes, more than the " + std::to_string(kMaxReadBytes) + " this tool reads";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  if (!in.good() && !in.eof()) {
    *error = "read " + path.string() + ": read error";
    return std::nullopt;
  }
  return contents.str();
}

bool WriteWhole(const fs::path& path, const std::string& content, std::string* error) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  fs::path temp = path;
  temp += ".clawdie-tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.good()) {
      *error = "write " + path.string() + ": cannot write";
      fs::remove(temp, ec);
      return false;
    }
  }
  fs::rename(temp, path, ec);
  if (ec) {
    *error = "write " + path.string() + ": " + ec.message();
    fs::remove(temp, ec);
    return false;
  }
  return true;
}

size_t CountOccurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

void GrepFile(const fs::path& file, const std::regex& re, const std::string& shown,
              std::vector<std::string>& matches) {
  std::error_code ec;
  if (fs::file_size(file, ec) > kMaxGrepFileBytes || ec) return;
  std::ifstream in(file, std::ios::binary);
  std::string line;
  for (int number = 1; std::getline(in, line) && matches.size() < kMaxGrepMatches; ++number) {
    if (line.find('\0') != std::string::npos) return;  // binary file
    if (std::regex_search(line, re)) {
      matches.push_back(shown + ":" + std::to_string(number) + ": " + line.substr(0, 500));
    }
  }
}

}  // namespace

std::optional<ToolOutcome> BuiltinTools::Run(std::string_view name,
                                             const nlohmann::json& input) const {
  if (name == "bash") return Bash(input);
  if (name == "read_file") return ReadFile(input);
  if (name == "write_file") return WriteFile(input);
  if (name == "edit_file") return EditFile(input);
  if (name == "list_files") return ListFiles(input);
  if (name == "grep") return Grep(input);
  return std::nullopt;
}

fs::path BuiltinTools::Resolve(const std::string& path) const {
  if (path.empty()) return workspace_;
  fs::path p(path);
  return p.is_absolute() ? p : workspace_ / p;
}

ToolOutcome BuiltinTools::Bash(const nlohmann::json& input) const {
  std::string command = StringField(input, "command");
  if (command.empty()) return Error("bash: \"command\" is missing");
  std::chrono::seconds timeout = limits_.bash_timeout;
  if (long long asked = IntField(input, "timeout_seconds"); asked > 0) {
    timeout = std::min(std::chrono::seconds(asked), limits_.bash_max_timeout);
  }
  absl::StatusOr<ShellResult> result =
      RunShellCommand(command, workspace_, timeout, limits_.output_cap);
  if (!result.ok()) return Error(std::string(result.status().message()));
  return {DescribeShellResult(*result, timeout), result->timed_out || result->exit_code != 0};
}

ToolOutcome BuiltinTools::ReadFile(const nlohmann::json& input) const {
  std::string path = StringField(input, "path");
  if (path.empty()) return Error("read_file: \"path\" is missing");
  std::string error;
  std::optional<std::string> contents = Slurp(Resolve(path), &error);
  if (!contents) return Error(error);
  long long offset = std::max<long long>(IntField(input, "offset", 1), 1);
  long long limit = IntField(input, "limit", 0);
  if (offset == 1 && limit <= 0) return {*contents, false};

  std::istringstream lines(*contents);
  std::string line, out;
  for (long long number = 1; std::getline(lines, line); ++number) {
    if (number < offset) continue;
    if (limit > 0 && number >= offset + limit) break;
    out += line + "\n";
  }
  return {out, false};
}

ToolOutcome BuiltinTools::WriteFile(const nlohmann::json& input) const {
  std::string path = StringField(input, "path");
  const nlohmann::json& content = Field(input, "content");
  if (path.empty()) return Error("write_file: \"path\" is missing");
  if (!content.is_string()) return Error("write_file: \"content\" must be a string");
  std::string error;
  if (!WriteWhole(Resolve(path), content.get<std::string>(), &error)) return Error(error);
  return {"wrote " + std::to_string(content.get<std::string>().size()) + " bytes to " + path,
          false};
}

ToolOutcome BuiltinTools::EditFile(const nlohmann::json& input) const {
  std::string path = StringField(input, "path");
  std::string old_string = StringField(input, "old_string");
  const nlohmann::json& new_string = Field(input, "new_string");
  bool replace_all = Field(input, "replace_all").is_boolean() && input["replace_all"].get<bool>();
  if (path.empty()) return Error("edit_file: \"path\" is missing");
  if (old_string.empty()) return Error("edit_file: \"old_string\" is missing or empty");
  if (!new_string.is_string()) return Error("edit_file: \"new_string\" must be a string");

  std::string error;
  std::optional<std::string> text = Slurp(Resolve(path), &error);
  if (!text) return Error(error);
  size_t count = CountOccurrences(*text, old_string);
  if (count == 0) return Error("edit_file " + path + ": old_string not found");
  if (count > 1 && !replace_all) {
    return Error("edit_file " + path + ": old_string matches " + std::to_string(count) +
                 " times; include more surrounding text to make it unique, or set replace_all");
  }
  std::string replacement = new_string.get<std::string>();
  std::string result;
  size_t start = 0;
  for (size_t pos = text->find(old_string); pos != std::string::npos;
       pos = text->find(old_string, start)) {
    result.append(*text, start, pos - start).append(replacement);
    start = pos + old_string.size();
  }
  result.append(*text, start, std::string::npos);
  if (!WriteWhole(Resolve(path), result, &error)) return Error(error);
  return {
      "replaced " + std::to_string(count) + " occurrence" + (count == 1 ? "" : "s") + " in " + path,
      false};
}

ToolOutcome BuiltinTools::ListFiles(const nlohmann::json& input) const {
  fs::path dir = Resolve(StringField(input, "path"));
  bool recursive = Field(input, "recursive").is_boolean() && input["recursive"].get<bool>();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error("list_files " + dir.string() + ": not a directory");

  std::vector<std::string> entries;
  auto add = [&](const fs::directory_entry& entry) {
    std::string name = fs::relative(entry.path(), dir, ec).string();
    if (entry.is_directory(ec)) name += "/";
    entries.push_back(name);
  };
  if (recursive) {
    for (auto it = fs::recursive_directory_iterator(
             dir, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator() && entries.size() <= kMaxListEntries;
         it.increment(ec)) {
      add(*it);
    }
  } else {
    for (auto it = fs::directory_iterator(dir, ec);
         it != fs::directory_iterator() && entries.size() <= kMaxListEntries; it.increment(ec)) {
      add(*it);
    }
  }
  if (ec) return Error("list_files " + dir.string() + ": " + ec.message());
  std::sort(entries.begin(), entries.end());
  std::string out;
  for (size_t i = 0; i < entries.size() && i < kMaxListEntries; ++i) out += entries[i] + "\n";
  if (entries.size() > kMaxListEntries)
    out += "[listing cut after " + std::to_string(kMaxListEntries) + " entries]\n";
  return {out, false};
}

ToolOutcome BuiltinTools::Grep(const nlohmann::json& input) const {
  std::string pattern = StringField(input, "pattern");
  if (pattern.empty()) return Error("grep: \"pattern\" is missing");
  bool ignore_case = Field(input, "ignore_case").is_boolean() && input["ignore_case"].get<bool>();
  std::regex re;
  try {
    re = std::regex(
        pattern, ignore_case ? std::regex::ECMAScript | std::regex::icase : std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return Error("grep pattern " + pattern + ": " + e.what());
  }

  std::string given = StringField(input, "path");
  fs::path root = Resolve(given);
  std::vector<std::string> matches;
  std::error_code ec;
  if (fs::is_regular_file(root, ec)) {
    GrepFile(root, re, given, matches);
  } else if (fs::is_directory(root, ec)) {
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(
             root, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      if (matches.size() >= kMaxGrepMatches) break;
      fs::path shown = given.empty() ? fs::relative(file, root, ec) : file;
      GrepFile(file, re, shown.string(), matches);
    }
  } else {
    return Error("grep " + root.string() + ": no such file or directory");
  }
  std::string out;
  for (const std::string& match : matches) out += match + "\n";
  if (matches.size() >= kMaxGrepMatches)
    out += "[stopped after " + std::to_string(kMaxGrepMatches) + " matches]\n";
  if (matches.empty()) out = "no matches\n";
  return {out, false};
}

}  // namespace clawdie::agent
