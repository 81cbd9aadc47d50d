// The router's one named logger ("router"), shared by its source files.
//
// Thread-safety: spdlog loggers are safe from any thread.
#ifndef CLAWDIE_SERVICES_ROUTER_ROUTER_LOG_H_
#define CLAWDIE_SERVICES_ROUTER_ROUTER_LOG_H_

#include <memory>

#include "common/logging.h"

namespace clawdie::router {

// Looked up once: every message logs through it, and the lookup takes the registry's lock.
inline const std::shared_ptr<spdlog::logger>& Log() {
  static const std::shared_ptr<spdlog::logger> logger = GetLogger("router");
  return logger;
}

}  // namespace clawdie::router

#endif  // CLAWDIE_SERVICES_ROUTER_ROUTER_LOG_H_
