#include "services/broker/steps.h"

#include "common/logging.h"

namespace clawdie::broker {

StepRunner::StepRunner(std::string object, StepHook hook)
    : object_(std::move(object)), hook_(std::move(hook)) {}

StepRunner::~StepRunner() { UndoAll(); }

absl::Status StepRunner::Run(std::string_view name, const std::function<absl::Status()>& action,
                             std::function<void()> undo) {
  absl::Status status = hook_ ? hook_(name) : absl::OkStatus();
  if (status.ok()) status = action();
  if (!status.ok()) {
    GetLogger("broker")->debug("{} {}: step failed, undoing {} earlier steps", name, object_,
                               done_.size());
    UndoAll();
    return absl::Status(status.code(),
                        std::string(name) + " " + object_ + ": " + std::string(status.message()));
  }
  done_.push_back({std::string(name), std::move(undo)});
  return absl::OkStatus();
}

void StepRunner::UndoAll() {
  while (!done_.empty()) {
    DoneStep step = std::move(done_.back());
    done_.pop_back();
    if (step.undo) step.undo();
  }
}

std::vector<std::string> StepRunner::done() const {
  std::vector<std::string> names;
  for (const auto& step : done_) names.push_back(step.name);
  return names;
}

}  // namespace clawdie::broker
