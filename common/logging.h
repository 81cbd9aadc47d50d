// Logging for every clawdie binary: one named spdlog logger per component
// (`store`, `router`, `gateway`, `telegram`, `broker`, `docker`, `agent`, ...),
// levels set per component from `--log-level`, output to stderr and optionally
// to a rotating file.
//
// Thread-safety: InitLogging is called once from main before threads start;
// GetLogger and the returned loggers are safe from any thread.
#ifndef CLAWDIE_COMMON_LOGGING_H_
#define CLAWDIE_COMMON_LOGGING_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "spdlog/spdlog.h"

namespace clawdie {

struct LoggingOptions {
  // `LEVEL` or `LEVEL,component:level,...`, e.g. "info,store:debug".
  std::string levels = "info";
  // When non-empty, also log to this file, rotated at 10 MiB, 5 files kept.
  std::string file;
};

// Installs the sinks and levels. Returns InvalidArgument naming the bad part of
// `levels`; the previous configuration stays in effect then.
absl::Status InitLogging(const LoggingOptions& options);

// Returns the logger for `component`, creating it with the configured sinks
// and level on first use. Never null.
std::shared_ptr<spdlog::logger> GetLogger(std::string_view component);

}  // namespace clawdie

// Lets log calls format absl::string_view (Debian's Abseil keeps its own type, distinct from
// std::string_view; status.message() returns it) and absl::Status directly.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view text, FormatContext& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(text.data(), text.size()),
                                                    ctx);
  }
};

template <>
struct fmt::formatter<absl::Status> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(const absl::Status& status, FormatContext& ctx) const {
    std::string text = status.ToString();
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(text), ctx);
  }
};

#endif  // CLAWDIE_COMMON_LOGGING_H_
