// Cron expressions for scheduled tasks (DESIGN.md §5, docs/scheduling.md).
//
// ParseCron reads the five-field schedule of a crontab line with Vixie cron's
// rules: minute, hour, day of month, month, day of week; `*`, lists, ranges and
// steps (`*/15`, `1-30/2`); month and day names in any case; 0 and 7 both mean
// Sunday; the `@hourly` ... `@yearly` shorthands. When the day-of-month and the
// day-of-week fields are both restricted (neither starts with `*`), a day
// matches if either matches; otherwise both must match.
//
// NextRun evaluates an expression against local wall-clock time in a zone: a
// wall time skipped by a DST jump fires once, at the instant of the jump; a
// wall time that occurs twice fires at its first occurrence only.
//
// Thread-safety: every function here is pure; a CronExpression is an immutable
// value and may be shared between threads.
#ifndef CLAWDIE_COMMON_CRON_H_
#define CLAWDIE_COMMON_CRON_H_

#include <bitset>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace clawdie {

// A parsed cron schedule: the set of values each field accepts.
struct CronExpression {
  std::bitset<60> minutes;        // 0-59
  std::bitset<24> hours;          // 0-23
  std::bitset<32> days_of_month;  // 1-31; bit 0 unused
  std::bitset<13> months;         // 1-12; bit 0 unused
  std::bitset<7> days_of_week;    // 0-6, 0 = Sunday (a 7 in the text is stored as 0)

  // True when the field's text started with `*` (`*`, `*/2`). Vixie cron uses
  // this, not the set of values, to choose between "either day field matches"
  // and "both day fields match".
  bool day_of_month_star = false;
  bool day_of_week_star = false;

  // The expression as written, e.g. "0 9 * * MON-FRI" or "@daily".
  std::string source;
};

// Parses a five-field cron expression or an `@` shorthand (`@hourly`, `@daily`,
// `@midnight`, `@weekly`, `@monthly`, `@yearly`, `@annually`). Surrounding
// whitespace is ignored; fields are separated by spaces or tabs.
//
// Returns InvalidArgument naming the expression, the field and the problem,
// e.g. `cron "61 * * * *": minute 61 out of range 0-59`. Expressions that can
// never fire (`0 0 30 2 *`) are rejected too.
absl::StatusOr<CronExpression> ParseCron(const std::string& text);

// True when the local civil minute `minute` satisfies every field.
bool CronMatches(const CronExpression& cron, absl::CivilMinute minute);

// Returns the first instant strictly after `after` at which the local
// wall-clock time in `zone` matches `cron`, with the DST rules above. Cost is
// proportional to the number of fields skipped, not to minutes elapsed.
// Returns absl::InfiniteFuture() only for an expression that never matches,
// which ParseCron does not produce.
absl::Time NextRun(const CronExpression& cron, absl::TimeZone zone, absl::Time after);

}  // namespace clawdie

#endif  // CLAWDIE_COMMON_CRON_H_
