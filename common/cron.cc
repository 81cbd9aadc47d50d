#include "common/cron.h"

#include <array>
#include <bitset>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace clawdie {
namespace {

// A Gregorian calendar repeats every 400 years, so a day pattern that does not
// occur within 400 years never occurs.
constexpr int kSearchYears = 400;

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDayNames = {"sun", "mon", "tue", "wed",
                                                       "thu", "fri", "sat"};

// What one of the five fields accepts. `names[i]` stands for `names_base + i`.
struct FieldSpec {
  std::string_view name;
  int min;
  int max;
  const std::string_view* names = nullptr;
  int name_count = 0;
  int names_base = 0;
  std::string_view names_hint;
};

constexpr FieldSpec kMinuteField{.name = "minute", .min = 0, .max = 59};
constexpr FieldSpec kHourField{.name = "hour", .min = 0, .max = 23};
constexpr FieldSpec kDayOfMonthField{.name = "day-of-month", .min = 1, .max = 31};
constexpr FieldSpec kMonthField{.name = "month",
                                .min = 1,
                                .max = 12,
                                .names = kMonthNames.data(),
                                .name_count = 12,
                                .names_base = 1,
                                .names_hint = "a month name (jan-dec)"};
constexpr FieldSpec kDayOfWeekField{.name = "day-of-week",
                                    .min = 0,
                                    .max = 7,
                                    .names = kDayNames.data(),
                                    .name_count = 7,
                                    .names_base = 0,
                                    .names_hint = "a day name (sun-sat)"};

// Wide enough for any field; bit i means value i.
using FieldBits = std::bitset<64>;

struct Shorthand {
  std::string_view name;
  std::string_view fields;
};

constexpr std::array<Shorthand, 7> kShorthands = {{
    {"@hourly", "0 * * * *"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"},
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
}};

std::string ToLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

bool IsAllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::vector<std::string> SplitOn(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::vector<std::string> SplitOnWhitespace(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::string Trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "";
  const size_t last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::string RangeText(const FieldSpec& field) {
  return std::to_string(field.min) + "-" + std::to_string(field.max);
}

// Parses one value of `field`: a number in range or, where allowed, a name.
absl::StatusOr<int> ParseValue(const FieldSpec& field, const std::string& token) {
  if (IsAllDigits(token)) {
    // More digits than any field needs is out of range; avoids overflow.
    const int value = token.size() > 4 ? field.max + 1 : std::stoi(token);
    if (value < field.min || value > field.max) {
      return absl::InvalidArgumentError(std::string(field.name) + " " + token + " out of range " +
                                        RangeText(field));
    }
    return value;
  }

  const std::string lower = ToLower(token);
  for (int i = 0; i < field.name_count; ++i) {
    if (lower == field.names[i]) return field.names_base + i;
  }
  std::string expected = "a number";
  if (field.name_count > 0) expected += " or " + std::string(field.names_hint);
  return absl::InvalidArgumentError(std::string(field.name) + " \"" + token + "\" is not " +
                                    expected);
}

absl::StatusOr<int> ParseStep(const FieldSpec& field, const std::string& token) {
  const int span = field.max - field.min + 1;
  const int step = !IsAllDigits(token) ? 0 : token.size() > 4 ? span + 1 : std::stoi(token);
  if (step < 1 || step > span) {
    return absl::InvalidArgumentError(std::string(field.name) + " step \"" + token +
                                      "\" must be a number from 1 to " + std::to_string(span));
  }
  return step;
}

struct ValueRange {
  int low;
  int high;
};

// Parses the part of an element before any `/`: `*`, `N` or `A-B`.
// `element` is the whole element, for messages; `stepped` says a step follows.
absl::StatusOr<ValueRange> ParseRange(const FieldSpec& field, const std::string& element,
                                      const std::string& range, bool stepped) {
  if (range == "*") return ValueRange{field.min, field.max};

  const std::vector<std::string> ends = SplitOn(range, '-');
  if (ends.size() > 2) {
    return absl::InvalidArgumentError(std::string(field.name) + " range \"" + range +
                                      "\" has more than two ends");
  }
  if (ends.size() == 1 && stepped) {
    const std::string step = element.substr(element.find('/') + 1);
    return absl::InvalidArgumentError(std::string(field.name) + " \"" + element +
                                      "\": a step needs a range or *, e.g. " + range + "-" +
                                      std::to_string(field.max) + "/" + step);
  }

  absl::StatusOr<int> first = ParseValue(field, ends[0]);
  if (!first.ok()) return first.status();
  if (ends.size() == 1) return ValueRange{*first, *first};
  absl::StatusOr<int> last = ParseValue(field, ends[1]);
  if (!last.ok()) return last.status();
  if (*first > *last) {
    return absl::InvalidArgumentError(std::string(field.name) + " range \"" + range +
                                      "\" runs backwards");
  }
  return ValueRange{*first, *last};
}

// Sets the bits of one list element: `*`, `N`, `A-B`, `*/S` or `A-B/S`.
absl::Status ParseElement(const FieldSpec& field, const std::string& element, FieldBits& bits) {
  const std::vector<std::string> parts = SplitOn(element, '/');
  if (parts.size() > 2) {
    return absl::InvalidArgumentError(std::string(field.name) + " \"" + element +
                                      "\" has more than one step");
  }
  int step = 1;
  if (parts.size() == 2) {
    absl::StatusOr<int> parsed_step = ParseStep(field, parts[1]);
    if (!parsed_step.ok()) return parsed_step.status();
    step = *parsed_step;
  }

  absl::StatusOr<ValueRange> range = ParseRange(field, element, parts[0], parts.size() == 2);
  if (!range.ok()) return range.status();
  for (int value = range->low; value <= range->high; value += step) bits.set(value);
  return absl::OkStatus();
}

// Parses a comma-separated list of elements into the set of accepted values.
absl::StatusOr<FieldBits> ParseField(const FieldSpec& field, const std::string& text) {
  FieldBits bits;
  for (const std::string& element : SplitOn(text, ',')) {
    if (element.empty()) {
      return absl::InvalidArgumentError(std::string(field.name) + " \"" + text +
                                        "\" has an empty list element");
    }
    absl::Status status = ParseElement(field, element, bits);
    if (!status.ok()) return status;
  }
  return bits;
}

template <size_t N>
std::bitset<N> Narrow(const FieldBits& bits) {
  std::bitset<N> narrow;
  for (size_t i = 0; i < N; ++i) narrow[i] = bits[i];
  return narrow;
}

// Returns the five fields of `text`, with an `@` shorthand expanded.
absl::StatusOr<std::vector<std::string>> SplitFields(const std::string& text) {
  const std::string trimmed = Trim(text);
  if (trimmed.empty()) return absl::InvalidArgumentError("empty expression");

  if (trimmed[0] == '@') {
    const std::string lower = ToLower(trimmed);
    for (const Shorthand& shorthand : kShorthands) {
      if (lower == shorthand.name) return SplitOnWhitespace(shorthand.fields);
    }
    return absl::InvalidArgumentError(
        "unknown shorthand " + trimmed +
        " (use @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually)");
  }

  std::vector<std::string> fields = SplitOnWhitespace(trimmed);
  if (fields.size() != 5) {
    return absl::InvalidArgumentError(
        "expected 5 fields (minute hour day-of-month month day-of-week), got " +
        std::to_string(fields.size()));
  }
  return fields;
}

absl::StatusOr<CronExpression> ParseFields(const std::vector<std::string>& fields) {
  absl::StatusOr<FieldBits> minutes = ParseField(kMinuteField, fields[0]);
  if (!minutes.ok()) return minutes.status();
  absl::StatusOr<FieldBits> hours = ParseField(kHourField, fields[1]);
  if (!hours.ok()) return hours.status();
  absl::StatusOr<FieldBits> days_of_month = ParseField(kDayOfMonthField, fields[2]);
  if (!days_of_month.ok()) return days_of_month.status();
  absl::StatusOr<FieldBits> months = ParseField(kMonthField, fields[3]);
  if (!months.ok()) return months.status();
  absl::StatusOr<FieldBits> days_of_week = ParseField(kDayOfWeekField, fields[4]);
  if (!days_of_week.ok()) return days_of_week.status();

  // 7 is another name for Sunday.
  if (days_of_week->test(7)) days_of_week->set(0);

  CronExpression cron;
  cron.minutes = Narrow<60>(*minutes);
  cron.hours = Narrow<24>(*hours);
  cron.days_of_month = Narrow<32>(*days_of_month);
  cron.months = Narrow<13>(*months);
  cron.days_of_week = Narrow<7>(*days_of_week);
  cron.day_of_month_star = fields[2][0] == '*';
  cron.day_of_week_star = fields[4][0] == '*';
  return cron;
}

// Cron numbers weekdays from Sunday = 0.
int CronWeekday(absl::CivilDay day) {
  switch (absl::GetWeekday(day)) {
    case absl::Weekday::sunday:
      return 0;
    case absl::Weekday::monday:
      return 1;
    case absl::Weekday::tuesday:
      return 2;
    case absl::Weekday::wednesday:
      return 3;
    case absl::Weekday::thursday:
      return 4;
    case absl::Weekday::friday:
      return 5;
    case absl::Weekday::saturday:
      return 6;
  }
  return 0;
}

bool DayMatches(const CronExpression& cron, absl::CivilDay day) {
  const bool day_of_month = cron.days_of_month.test(day.day());
  const bool day_of_week = cron.days_of_week.test(CronWeekday(day));
  if (cron.day_of_month_star || cron.day_of_week_star) return day_of_month && day_of_week;
  return day_of_month || day_of_week;
}

// Returns the first set bit at or after `from`, or -1.
template <size_t N>
int NextSetBit(const std::bitset<N>& bits, int from) {
  for (size_t i = from; i < N; ++i) {
    if (bits.test(i)) return static_cast<int>(i);
  }
  return -1;
}

// Returns the first civil minute at or after `from` that matches `cron`, or
// nothing when there is none before the year `limit`. Skips whole months, days
// and hours that cannot match.
std::optional<absl::CivilMinute> NextMatchingMinute(const CronExpression& cron,
                                                    absl::CivilMinute from, absl::CivilYear limit) {
  absl::CivilMinute t = from;
  while (absl::CivilYear(t) < limit) {
    if (!cron.months.test(t.month())) {
      t = absl::CivilMonth(t) + 1;
      continue;
    }
    if (!DayMatches(cron, absl::CivilDay(t))) {
      t = absl::CivilDay(t) + 1;
      continue;
    }
    const int hour = NextSetBit(cron.hours, t.hour());
    if (hour < 0) {
      t = absl::CivilDay(t) + 1;
      continue;
    }
    if (hour != t.hour()) t = absl::CivilMinute(t.year(), t.month(), t.day(), hour, 0);
    const int minute = NextSetBit(cron.minutes, t.minute());
    if (minute < 0) {
      t = absl::CivilHour(t) + 1;
      continue;
    }
    return absl::CivilMinute(t.year(), t.month(), t.day(), t.hour(), minute);
  }
  return std::nullopt;
}

// The instant a local wall time stands for: its first occurrence when it is
// repeated, the moment of the jump when it is skipped.
absl::Time FirstInstantOf(absl::TimeZone zone, absl::CivilMinute wall) {
  const absl::TimeZone::TimeInfo info = zone.At(absl::CivilSecond(wall));
  if (info.kind == absl::TimeZone::TimeInfo::SKIPPED) return info.trans;
  return info.pre;
}

}  // namespace

absl::StatusOr<CronExpression> ParseCron(const std::string& text) {
  const std::string prefix = "cron \"" + text + "\": ";
  absl::StatusOr<std::vector<std::string>> fields = SplitFields(text);
  if (!fields.ok())
    return absl::InvalidArgumentError(prefix + std::string(fields.status().message()));
  absl::StatusOr<CronExpression> cron = ParseFields(*fields);
  if (!cron.ok()) return absl::InvalidArgumentError(prefix + std::string(cron.status().message()));

  // Any 400-year window holds every calendar pattern there is.
  const absl::CivilMinute start(2000, 1, 1, 0, 0);
  if (!NextMatchingMinute(*cron, start, absl::CivilYear(start) + kSearchYears).has_value()) {
    return absl::InvalidArgumentError(
        prefix + "never fires: no date satisfies the day-of-month, month and day-of-week fields");
  }
  cron->source = Trim(text);
  return cron;
}

bool CronMatches(const CronExpression& cron, absl::CivilMinute minute) {
  return cron.months.test(minute.month()) && DayMatches(cron, absl::CivilDay(minute)) &&
         cron.hours.test(minute.hour()) && cron.minutes.test(minute.minute());
}

absl::Time NextRun(const CronExpression& cron, absl::TimeZone zone, absl::Time after) {
  if (after == absl::InfiniteFuture()) return absl::InfiniteFuture();

  // Wall times before the one of `after` map to instants at or before it, so
  // the search starts there; wall times of a repeated hour whose first
  // occurrence has passed are skipped by the comparison below.
  absl::CivilMinute wall(zone.At(after).cs);
  const absl::CivilYear limit = absl::CivilYear(wall) + kSearchYears;
  while (true) {
    const std::optional<absl::CivilMinute> match = NextMatchingMinute(cron, wall, limit);
    if (!match.has_value()) return absl::InfiniteFuture();
    const absl::Time at = FirstInstantOf(zone, *match);
    if (at > after) return at;
    wall = *match + 1;
  }
}

}  // namespace clawdie
