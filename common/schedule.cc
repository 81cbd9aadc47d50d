#include "common/schedule.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/civil_time.h"

namespace clawdie {
namespace {

// Enough for any sensible duration (about 31,000 years of seconds) without
// overflowing int64 once multiplied by a day.
constexpr size_t kMaxDurationDigits = 12;

constexpr char kZoneHint[] = " (expected an IANA name such as Europe/Berlin)";
constexpr char kOnceFormatHint[] =
    "expected YYYY-MM-DDTHH:MM[:SS] with an optional Z or +HH:MM offset, e.g. 2026-12-24T09:00";

struct DurationUnit {
  char symbol;
  int64_t seconds;
};

// Largest first: the order in which units must appear.
constexpr DurationUnit kDurationUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

std::string Trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "";
  const size_t last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// Returns the index into kDurationUnits of `symbol`, or -1.
int UnitIndex(char symbol) {
  for (int i = 0; i < static_cast<int>(std::size(kDurationUnits)); ++i) {
    if (kDurationUnits[i].symbol == symbol) return i;
  }
  return -1;
}

// Parses `text` (already trimmed) into seconds; errors carry only the cause.
absl::StatusOr<int64_t> ParseDurationSeconds(const std::string& text) {
  if (text.empty()) return absl::InvalidArgumentError("empty");
  const std::string example = " (expected e.g. 45s, 30m, 1h30m, 2d or 90)";

  int64_t total = 0;
  int previous_unit = -1;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    const size_t start = pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    const std::string number = text.substr(start, pos - start);
    if (number.empty()) {
      return absl::InvalidArgumentError("unexpected \"" + text.substr(pos, 1) + "\"" + example);
    }
    if (number.size() > kMaxDurationDigits) {
      return absl::InvalidArgumentError("number " + number + " is too large");
    }
    const int64_t value = std::stoll(number);

    // Plain digits are seconds, but only on their own.
    if (pos == text.size() && previous_unit < 0) return value;
    if (pos == text.size()) {
      return absl::InvalidArgumentError("missing unit after " + number + example);
    }
    const int unit = UnitIndex(text[pos]);
    if (unit < 0) {
      return absl::InvalidArgumentError("unknown unit \"" + text.substr(pos, 1) +
                                        "\" (use d, h, m or s)");
    }
    if (unit <= previous_unit) {
      return absl::InvalidArgumentError(
          "units must go from largest to smallest (d, h, m, s), each once");
    }
    previous_unit = unit;
    total += value * kDurationUnits[unit].seconds;
    ++pos;
  }
  return total;
}

absl::Status PrefixError(const std::string& prefix, const absl::Status& status) {
  return absl::Status(status.code(), prefix + std::string(status.message()));
}

// Reads exactly `count` digits at `pos` into `value`.
bool ReadDigits(std::string_view text, size_t& pos, size_t count, int& value) {
  if (pos + count > text.size()) return false;
  value = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!IsDigit(text[pos + i])) return false;
    value = value * 10 + (text[pos + i] - '0');
  }
  pos += count;
  return true;
}

bool ReadChar(std::string_view text, size_t& pos, char expected) {
  if (pos >= text.size() || text[pos] != expected) return false;
  ++pos;
  return true;
}

// The fields of a `once` time as written.
struct OnceFields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  absl::Duration fraction;
  std::optional<absl::Duration> utc_offset;  // nothing: a local wall time
};

// Reads `.digits` after the seconds, if present.
bool ReadFraction(std::string_view text, size_t& pos, absl::Duration& fraction) {
  if (pos >= text.size() || text[pos] != '.') return true;
  ++pos;
  int64_t nanos = 0;
  int64_t scale = 100000000;
  const size_t start = pos;
  for (; pos < text.size() && IsDigit(text[pos]); ++pos) {
    nanos += (text[pos] - '0') * scale;
    scale /= 10;
  }
  fraction = absl::Nanoseconds(nanos);
  return pos > start;
}

// Reads `Z`, `z`, `+HH:MM` or `-HH:MM` if present.
bool ReadOffset(std::string_view text, size_t& pos, std::optional<absl::Duration>& offset) {
  if (pos >= text.size()) return true;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
    offset = absl::ZeroDuration();
    return true;
  }
  const char sign = text[pos];
  if (sign != '+' && sign != '-') return false;
  ++pos;
  int hours = 0;
  int minutes = 0;
  if (!ReadDigits(text, pos, 2, hours) || !ReadChar(text, pos, ':') ||
      !ReadDigits(text, pos, 2, minutes) || hours > 23 || minutes > 59) {
    return false;
  }
  offset = (sign == '-' ? -1 : 1) * (absl::Hours(hours) + absl::Minutes(minutes));
  return true;
}

// Splits `text` into its fields; nothing when it does not have the shape.
std::optional<OnceFields> ReadOnceFields(std::string_view text) {
  OnceFields f;
  size_t pos = 0;
  const bool date = ReadDigits(text, pos, 4, f.year) && ReadChar(text, pos, '-') &&
                    ReadDigits(text, pos, 2, f.month) && ReadChar(text, pos, '-') &&
                    ReadDigits(text, pos, 2, f.day);
  if (!date || pos >= text.size()) return std::nullopt;
  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return std::nullopt;
  ++pos;
  if (!ReadDigits(text, pos, 2, f.hour) || !ReadChar(text, pos, ':') ||
      !ReadDigits(text, pos, 2, f.minute)) {
    return std::nullopt;
  }
  if (ReadChar(text, pos, ':') &&
      (!ReadDigits(text, pos, 2, f.second) || !ReadFraction(text, pos, f.fraction))) {
    return std::nullopt;
  }
  if (!ReadOffset(text, pos, f.utc_offset) || pos != text.size()) return std::nullopt;
  return f;
}

std::string OutOfRange(std::string_view what, int value, int min, int max) {
  return std::string(what) + " " + std::to_string(value) + " out of range " + std::to_string(min) +
         "-" + std::to_string(max);
}

// Returns the cause when a field is out of range, or nothing.
std::optional<std::string> CheckOnceFields(const OnceFields& f) {
  if (f.month < 1 || f.month > 12) return OutOfRange("month", f.month, 1, 12);
  const int days_in_month = absl::CivilDay(absl::CivilMonth(f.year, f.month) + 1) -
                            absl::CivilDay(absl::CivilMonth(f.year, f.month));
  if (f.day < 1 || f.day > days_in_month) {
    return OutOfRange("day", f.day, 1, days_in_month) + " for " +
           absl::FormatCivilTime(absl::CivilMonth(f.year, f.month));
  }
  if (f.hour > 23) return OutOfRange("hour", f.hour, 0, 23);
  if (f.minute > 59) return OutOfRange("minute", f.minute, 0, 59);
  if (f.second > 59) return OutOfRange("second", f.second, 0, 59);
  return std::nullopt;
}

// The instant of a local wall time: the jump when DST skips it, the first
// occurrence when it happens twice (the same rule as cron).
absl::Time WallTimeInstant(absl::TimeZone zone, absl::CivilSecond wall, absl::Duration fraction) {
  const absl::TimeZone::TimeInfo info = zone.At(wall);
  if (info.kind == absl::TimeZone::TimeInfo::SKIPPED) return info.trans;
  return info.pre + fraction;
}

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// previous_due + n * interval for the smallest n >= 1 strictly after `now`.
absl::Time NextIntervalDue(absl::Duration interval, std::optional<absl::Time> previous_due,
                           absl::Time now) {
  if (!previous_due.has_value()) return now + interval;
  const absl::Time next = *previous_due + interval;
  if (next > now) return next;

  // Whole intervals already passed, plus one; no run for the missed ones.
  absl::Duration remainder;
  const int64_t passed = absl::IDivDuration(now - *previous_due, interval, &remainder);
  return *previous_due + (passed + 1) * interval;
}

}  // namespace

absl::StatusOr<absl::Duration> ParseDuration(const std::string& text) {
  absl::StatusOr<int64_t> seconds = ParseDurationSeconds(Trim(text));
  if (!seconds.ok()) return PrefixError("duration \"" + text + "\": ", seconds.status());
  return absl::Seconds(*seconds);
}

std::string FormatCompactDuration(absl::Duration duration) {
  if (duration < absl::ZeroDuration()) return "-" + FormatCompactDuration(-duration);
  int64_t seconds = absl::ToInt64Seconds(duration);
  if (seconds == 0) return "0s";
  std::string text;
  for (const DurationUnit& unit : kDurationUnits) {
    if (seconds >= unit.seconds) {
      text += std::to_string(seconds / unit.seconds) + unit.symbol;
      seconds %= unit.seconds;
    }
  }
  return text;
}

absl::StatusOr<TaskKind> ParseTaskKind(const std::string& text) {
  if (text == "cron") return TaskKind::kCron;
  if (text == "interval") return TaskKind::kInterval;
  if (text == "once") return TaskKind::kOnce;
  return absl::InvalidArgumentError("task kind \"" + text +
                                    "\": unknown (use cron, interval or once)");
}

std::string_view TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kCron:
      return "cron";
    case TaskKind::kInterval:
      return "interval";
    case TaskKind::kOnce:
      return "once";
  }
  return "once";
}

absl::StatusOr<absl::Time> ParseOnceTime(const std::string& text, absl::TimeZone zone) {
  const std::string prefix = "once \"" + text + "\": ";
  const std::optional<OnceFields> fields = ReadOnceFields(Trim(text));
  if (!fields.has_value()) {
    return absl::InvalidArgumentError(prefix + kOnceFormatHint);
  }
  if (std::optional<std::string> cause = CheckOnceFields(*fields)) {
    return absl::InvalidArgumentError(prefix + *cause);
  }

  const absl::CivilSecond wall(fields->year, fields->month, fields->day, fields->hour,
                               fields->minute, fields->second);
  if (fields->utc_offset.has_value()) {
    return absl::FromCivil(wall, absl::UTCTimeZone()) - *fields->utc_offset + fields->fraction;
  }
  return WallTimeInstant(zone, wall, fields->fraction);
}

absl::StatusOr<absl::TimeZone> LoadZone(const std::string& name) {
  absl::TimeZone zone;
  // Only names: the library would also load any file path ("/etc/localtime", "../x").
  bool is_name = !name.empty() && name[0] != '/' && name.find("..") == std::string::npos &&
                 name != "localtime";
  if (!is_name || !absl::LoadTimeZone(name, &zone)) {
    return absl::InvalidArgumentError("time zone \"" + name + "\": not in the time zone database" +
                                      kZoneHint);
  }
  return zone;
}

namespace {

// Parses a `once` time, loading `time_zone` only when the text has no offset.
absl::StatusOr<absl::Time> ParseOnceWithZoneName(const std::string& text,
                                                 const std::string& time_zone) {
  // A malformed text or one with an offset needs no zone; report its own error first.
  const std::optional<OnceFields> fields = ReadOnceFields(Trim(text));
  if (!fields.has_value() || fields->utc_offset.has_value()) {
    return ParseOnceTime(text, absl::UTCTimeZone());
  }
  absl::StatusOr<absl::TimeZone> zone = LoadZone(time_zone);
  if (!zone.ok()) return zone.status();
  return ParseOnceTime(text, *zone);
}

}  // namespace

absl::StatusOr<Schedule> Schedule::Parse(TaskKind kind, const std::string& expression,
                                         const std::string& time_zone) {
  Schedule schedule;
  schedule.kind_ = kind;
  switch (kind) {
    case TaskKind::kCron: {
      absl::StatusOr<CronExpression> cron = ParseCron(expression);
      if (!cron.ok()) return cron.status();
      absl::StatusOr<absl::TimeZone> zone = LoadZone(time_zone);
      if (!zone.ok()) return zone.status();
      schedule.cron_ = *std::move(cron);
      schedule.zone_ = *zone;
      return schedule;
    }
    case TaskKind::kInterval: {
      const std::string prefix = "interval \"" + expression + "\": ";
      absl::StatusOr<int64_t> seconds = ParseDurationSeconds(Trim(expression));
      if (!seconds.ok()) return PrefixError(prefix, seconds.status());
      schedule.interval_ = absl::Seconds(*seconds);
      if (schedule.interval_ < kMinInterval) {
        return absl::InvalidArgumentError(prefix + "shorter than the minimum of " +
                                          FormatCompactDuration(kMinInterval));
      }
      if (schedule.interval_ > kMaxInterval) {
        return absl::InvalidArgumentError(prefix + "longer than the maximum of " +
                                          FormatCompactDuration(kMaxInterval));
      }
      return schedule;
    }
    case TaskKind::kOnce: {
      absl::StatusOr<absl::Time> at = ParseOnceWithZoneName(expression, time_zone);
      if (!at.ok()) return at.status();
      schedule.once_at_ = *at;
      return schedule;
    }
  }
  return absl::InvalidArgumentError("task kind: unknown");
}

std::optional<absl::Time> Schedule::NextDue(std::optional<absl::Time> previous_due,
                                            absl::Time now) const {
  switch (kind_) {
    case TaskKind::kCron:
      return NextRun(cron_, zone_, previous_due.has_value() ? std::max(*previous_due, now) : now);
    case TaskKind::kInterval:
      return NextIntervalDue(interval_, previous_due, now);
    case TaskKind::kOnce:
      if (previous_due.has_value()) return std::nullopt;
      return once_at_;
  }
  return std::nullopt;
}

absl::Status ValidateNewSchedule(TaskKind kind, const std::string& expression,
                                 const std::string& time_zone, absl::Time now) {
  absl::StatusOr<Schedule> schedule = Schedule::Parse(kind, expression, time_zone);
  if (!schedule.ok()) return schedule.status();
  if (kind != TaskKind::kOnce) return absl::OkStatus();

  const absl::Time at = *schedule->NextDue(std::nullopt, now);
  if (at <= now) {
    return absl::InvalidArgumentError("once \"" + expression + "\": " + FormatUtc(at) +
                                      " is in the past");
  }
  // Timestamps on the wire end with the year 9999.
  if (at > absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone())) {
    return absl::InvalidArgumentError("once \"" + expression + "\": after the year 9999");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<absl::Time>> NextDue(TaskKind kind, const std::string& expression,
                                                  const std::string& time_zone,
                                                  std::optional<absl::Time> previous_due,
                                                  absl::Time now) {
  absl::StatusOr<Schedule> schedule = Schedule::Parse(kind, expression, time_zone);
  if (!schedule.ok()) return schedule.status();
  return schedule->NextDue(previous_due, now);
}

}  // namespace clawdie
