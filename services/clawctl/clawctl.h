// clawctl, the operator's command-line client of the clawdie services
// (DESIGN.md §1, issue 7). RunClawctl is the whole program; main.cc only hands
// it the process's arguments and streams, so tests can run it in-process.
//
// Exit codes: 0 success; 1 the command failed (one line "clawctl: <reason>" on the error
// stream); 2 the command line was wrong.
//
// Thread-safety: call from one thread at a time.
#ifndef CLAWDIE_SERVICES_CLAWCTL_CLAWCTL_H_
#define CLAWDIE_SERVICES_CLAWCTL_CLAWCTL_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace clawdie::clawctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Runs clawctl with `args` (without the program name). `environ` overrides the config file
// as it does for the services.
int RunClawctl(const std::vector<std::string>& args, char** environ, std::istream& in,
               std::ostream& out, std::ostream& err);

}  // namespace clawdie::clawctl

#endif  // CLAWDIE_SERVICES_CLAWCTL_CLAWCTL_H_
