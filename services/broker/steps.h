// Ordered creation steps with undo actions: the way every backend builds a
// sandbox. Steps run in order; when one fails, the undo actions of the steps
// that already succeeded run in reverse order, so a failed start leaves
// nothing behind. The same undo list is the sandbox's teardown.
//
// Thread-safety: a StepRunner is used by one thread at a time.
#ifndef CLAWDIE_SERVICES_BROKER_STEPS_H_
#define CLAWDIE_SERVICES_BROKER_STEPS_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace clawdie::broker {

// Called before each step with the step's name; a non-OK status fails the
// step without running it. Tests use it to fail each step in turn.
using StepHook = std::function<absl::Status(std::string_view step)>;

class StepRunner {
 public:
  // `object` names what is being built in error messages (e.g. "sandbox run-1").
  explicit StepRunner(std::string object, StepHook hook = nullptr);
  ~StepRunner();  // Runs pending undo actions (see UndoAll).

  StepRunner(const StepRunner&) = delete;
  StepRunner& operator=(const StepRunner&) = delete;

  // Runs `action`. On success, remembers `undo` (may be null) for teardown
  // and returns OK. On failure, undoes every earlier step in reverse order and
  // returns the error as "<step> <object>: <cause>", keeping the code.
  absl::Status Run(std::string_view name, const std::function<absl::Status()>& action,
                   std::function<void()> undo = nullptr);

  // Runs every remembered undo action in reverse order, once.
  void UndoAll();

  // Names of the steps that succeeded and are not yet undone, in order.
  std::vector<std::string> done() const;

 private:
  struct DoneStep {
    std::string name;
    std::function<void()> undo;
  };

  std::string object_;
  StepHook hook_;
  std::vector<DoneStep> done_;
};

}  // namespace clawdie::broker

#endif  // CLAWDIE_SERVICES_BROKER_STEPS_H_
