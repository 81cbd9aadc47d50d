#include "common/logging.h"

#include <map>
#include <mutex>
#include <vector>

#include "spdlog/sinks/rotating_file_sink.h"
#include "spdlog/sinks/stdout_color_sinks.h"

namespace clawdie {
namespace {

struct LoggingState {
  std::mutex mu;
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::level::level_enum default_level = spdlog::level::info;
  std::map<std::string, spdlog::level::level_enum, std::less<>> component_levels;
};

LoggingState& State() {
  static auto* state = new LoggingState();
  return *state;
}

absl::Status ParseLevel(std::string_view text, spdlog::level::level_enum* level) {
  static const std::map<std::string_view, spdlog::level::level_enum> kLevels = {
      {"trace", spdlog::level::trace},       {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},         {"warn", spdlog::level::warn},
      {"warning", spdlog::level::warn},      {"error", spdlog::level::err},
      {"critical", spdlog::level::critical}, {"off", spdlog::level::off}};
  auto it = kLevels.find(text);
  if (it == kLevels.end()) {
    return absl::InvalidArgumentError(
        "log level \"" + std::string(text) +
        "\": expected trace, debug, info, warn, error, critical or off");
  }
  *level = it->second;
  return absl::OkStatus();
}

// Splits "info, store:debug" into {"info", "store:debug"}, dropping blanks.
std::vector<std::string> SplitLevels(const std::string& text) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : text + ",") {
    if (c == ',') {
      if (!current.empty()) parts.push_back(current);
      current.clear();
    } else if (c != ' ' && c != '\t') {
      current.push_back(c);
    }
  }
  return parts;
}

void EnsureSinks(LoggingState& state) {
  if (state.sinks.empty()) {
    state.sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  }
}

spdlog::level::level_enum LevelFor(const LoggingState& state, std::string_view component) {
  auto it = state.component_levels.find(component);
  return it == state.component_levels.end() ? state.default_level : it->second;
}

}  // namespace

absl::Status InitLogging(const LoggingOptions& options) {
  spdlog::level::level_enum default_level = spdlog::level::info;
  std::map<std::string, spdlog::level::level_enum, std::less<>> component_levels;
  for (const std::string& part : SplitLevels(options.levels)) {
    size_t colon = part.find(':');
    std::string_view level_text =
        std::string_view(part).substr(colon == std::string::npos ? 0 : colon + 1);
    spdlog::level::level_enum level = spdlog::level::info;
    absl::Status status = ParseLevel(level_text, &level);
    if (!status.ok()) return status;
    if (colon == std::string::npos) {
      default_level = level;
    } else {
      component_levels[part.substr(0, colon)] = level;
    }
  }

  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  if (!options.file.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(options.file,
                                                                             10 * 1024 * 1024, 5));
    } catch (const spdlog::spdlog_ex& e) {
      return absl::FailedPreconditionError("open log file " + options.file + ": " + e.what());
    }
  }

  LoggingState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  state.sinks = std::move(sinks);
  state.default_level = default_level;
  state.component_levels = std::move(component_levels);
  spdlog::apply_all([&state](std::shared_ptr<spdlog::logger> logger) {
    logger->sinks() = state.sinks;
    logger->set_level(LevelFor(state, logger->name()));
  });
  return absl::OkStatus();
}

std::shared_ptr<spdlog::logger> GetLogger(std::string_view component) {
  LoggingState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  std::string name(component);
  if (auto existing = spdlog::get(name)) return existing;
  EnsureSinks(state);
  auto logger = std::make_shared<spdlog::logger>(name, state.sinks.begin(), state.sinks.end());
  logger->set_level(LevelFor(state, name));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ [%n] %v");
  logger->flush_on(spdlog::level::warn);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace clawdie
