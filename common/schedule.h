// Schedules of scheduled tasks and duration values (DESIGN.md §5,
// docs/scheduling.md).
//
// A task has a kind and an expression:
//   cron      a five-field cron expression evaluated in the task's time zone;
//   interval  a duration; each due time is the previous one plus a whole number
//             of intervals, the first strictly after now (no drift, no burst of
//             catch-up runs after downtime);
//   once      a local date-time without offset (`2026-12-24T09:00`,
//             `2026-12-24 09:00:00`) in the task's time zone, or an RFC 3339
//             instant with `Z` or an offset; due once.
// Durations read `45s`, `30m`, `1h30m`, `2d` or plain seconds (`90`).
//
// Thread-safety: every function here is pure; a Schedule is an immutable value
// and may be shared between threads.
#ifndef CLAWDIE_COMMON_SCHEDULE_H_
#define CLAWDIE_COMMON_SCHEDULE_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cron.h"

namespace clawdie {

// Parses a duration: one or more `<digits><unit>` parts with units `d`, `h`,
// `m`, `s` in that order, each at most once (`1h30m`, `2d`, `45s`), or plain
// digits meaning seconds (`90`). `0` and `0s` are zero.
// Returns InvalidArgument naming the text and the problem, e.g.
// `duration "1x": unknown unit "x" (use d, h, m or s)`.
absl::StatusOr<absl::Duration> ParseDuration(const std::string& text);

// Formats a duration the way ParseDuration reads it: `1h30m`, `2d`, `0s`.
// Fractions of a second are dropped.
std::string FormatCompactDuration(absl::Duration duration);

// The shortest interval a task may have; cron's granularity is a minute too.
inline constexpr absl::Duration kMinInterval = absl::Minutes(1);
// The longest: a hundred years keeps every due time far inside what timestamps can hold.
inline constexpr absl::Duration kMaxInterval = absl::Hours(24 * 36500);

enum class TaskKind { kCron, kInterval, kOnce };

// Parses `cron`, `interval` or `once` (lower case, as stored). Returns
// InvalidArgument for anything else.
absl::StatusOr<TaskKind> ParseTaskKind(const std::string& text);

// Returns `cron`, `interval` or `once`.
std::string_view TaskKindName(TaskKind kind);

// Parses a `once` time. A text without offset is a wall time in `zone`: a wall
// time skipped by a DST jump means the instant of the jump, one that occurs
// twice means its first occurrence. A text with `Z` or `+HH:MM` / `-HH:MM` is
// that instant and `zone` is not used. Seconds and fractions are optional; `T`,
// `t` or one space separates date and time.
// Returns InvalidArgument naming the text and the problem.
absl::StatusOr<absl::Time> ParseOnceTime(const std::string& text, absl::TimeZone zone);

// Loads an IANA time zone (`Europe/Berlin`, `UTC`). Returns InvalidArgument
// when the name is empty or not in the system's zone database, e.g.
// `time zone "Mars/Base": not in the time zone database (expected an IANA name
// such as Europe/Berlin)`.
absl::StatusOr<absl::TimeZone> LoadZone(const std::string& name);

// A validated task schedule.
class Schedule {
 public:
  // Validates `expression` for `kind`. `time_zone` is the group's IANA zone;
  // it must be valid for `cron` and for a `once` time without offset, and is
  // ignored for `interval`. Intervals shorter than kMinInterval or longer than kMaxInterval
  // are refused.
  // Returns InvalidArgument with a message for the operator or agent, e.g.
  // `cron "61 * * * *": minute 61 out of range 0-59`.
  static absl::StatusOr<Schedule> Parse(TaskKind kind, const std::string& expression,
                                        const std::string& time_zone);

  TaskKind kind() const { return kind_; }

  // Returns when the task is next due, or nothing when it never is again.
  // `previous_due` is the due time that was last claimed, or nothing for a new
  // task. Call it when a due time is claimed, with `now` the current time:
  //   cron      the first match strictly after max(previous_due, now);
  //   interval  new task: now + interval; otherwise previous_due + n * interval
  //             for the smallest n >= 1 that is strictly after now;
  //   once      new task: its instant, even if that has passed (it is overdue,
  //             not skipped); after it was due: nothing.
  std::optional<absl::Time> NextDue(std::optional<absl::Time> previous_due, absl::Time now) const;

 private:
  Schedule() = default;

  TaskKind kind_ = TaskKind::kOnce;
  CronExpression cron_;
  absl::TimeZone zone_;
  absl::Duration interval_;
  absl::Time once_at_;
};

// Validates a schedule given at task creation: Schedule::Parse plus, for
// `once`, a time that is not already at or before `now`. Returns
// InvalidArgument, e.g. `once "2020-01-01T09:00": 2020-01-01T08:00:00Z is in
// the past`.
absl::Status ValidateNewSchedule(TaskKind kind, const std::string& expression,
                                 const std::string& time_zone, absl::Time now);

// Schedule::Parse followed by Schedule::NextDue, for callers that keep only the
// stored strings. Returns the errors of Schedule::Parse.
absl::StatusOr<std::optional<absl::Time>> NextDue(TaskKind kind, const std::string& expression,
                                                  const std::string& time_zone,
                                                  std::optional<absl::Time> previous_due,
                                                  absl::Time now);

}  // namespace clawdie

#endif  // CLAWDIE_COMMON_SCHEDULE_H_
