// The router's one named logger ("router"), shared by its source files.
//
// Thread-safety: spdlog loggers are safe from any thread.
#ifndef CLAWDIE_SERVICES_ROUTER_ROUTER_LOG_H_
#define CLAWDIE_SERVICES_ROUTER_ROUTER_LOG_H_

#include <memory>

#include "common/logging.h"

namespace clawdie::router {

inline std::shared_ptr<spdlog::logger> Log() { return GetLogger("router"); }

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_ROUTER_LOG_H_
