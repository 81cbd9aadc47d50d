#include "common/schedule.h"

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace clawdie {
namespace {

absl::Time Utc(const std::string& rfc3339) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error)) << rfc3339 << ": " << error;
  return t;
}

std::string Format(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

std::string Format(std::optional<absl::Time> t) { return t.has_value() ? Format(*t) : "never"; }

absl::TimeZone Berlin() {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone("Europe/Berlin", &zone));
  return zone;
}

Schedule MustParse(TaskKind kind, const std::string& expression, const std::string& zone) {
  absl::StatusOr<Schedule> schedule = Schedule::Parse(kind, expression, zone);
  EXPECT_TRUE(schedule.ok()) << schedule.status();
  if (!schedule.ok()) std::abort();
  return *schedule;
}

std::string ErrorOf(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  return std::string(status.message());
}

TEST(ParseDurationTest, ReadsUnitsAndPlainSeconds) {
  const std::vector<std::pair<std::string, absl::Duration>> cases = {
      {"30m", absl::Minutes(30)},
      {"1h30m", absl::Minutes(90)},
      {"45s", absl::Seconds(45)},
      {"2d", absl::Hours(48)},
      {"90", absl::Seconds(90)},
      {"0", absl::ZeroDuration()},
      {"0s", absl::ZeroDuration()},
      {" 1h 30m ", absl::Minutes(90)},
      {"1d2h3m4s", absl::Seconds(86400 + 7200 + 180 + 4)},
      {"120m", absl::Hours(2)},
  };
  for (const auto& [text, expected] : cases) {
    absl::StatusOr<absl::Duration> duration = ParseDuration(text);
    ASSERT_TRUE(duration.ok()) << text << ": " << duration.status();
    EXPECT_EQ(*duration, expected) << text;
  }
}

TEST(ParseDurationTest, RejectsMalformedTextSayingWhy) {
  const std::string kExample = " (expected e.g. 45s, 30m, 1h30m, 2d or 90)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "duration \"\": empty"},
      {"  ", "duration \"  \": empty"},
      {"1x", "duration \"1x\": unknown unit \"x\" (use d, h, m or s)"},
      {"30M", "duration \"30M\": unknown unit \"M\" (use d, h, m or s)"},
      {"1.5h", "duration \"1.5h\": unknown unit \".\" (use d, h, m or s)"},
      {"30m1h",
       "duration \"30m1h\": units must go from largest to smallest (d, h, m, s), each once"},
      {"1h1h", "duration \"1h1h\": units must go from largest to smallest (d, h, m, s), each once"},
      {"1h30", "duration \"1h30\": missing unit after 30" + kExample},
      {"-5m", "duration \"-5m\": unexpected \"-\"" + kExample},
      {"h", "duration \"h\": unexpected \"h\"" + kExample},
      {"30ms", "duration \"30ms\": unexpected \"s\"" + kExample},
      {"1234567890123s", "duration \"1234567890123s\": number 1234567890123 is too large"},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_EQ(ErrorOf(ParseDuration(text).status()), message);
  }
}

TEST(FormatCompactDurationTest, WritesWhatParseDurationReads) {
  EXPECT_EQ(FormatCompactDuration(absl::Minutes(90)), "1h30m");
  EXPECT_EQ(FormatCompactDuration(absl::Hours(48)), "2d");
  EXPECT_EQ(FormatCompactDuration(absl::ZeroDuration()), "0s");
  EXPECT_EQ(FormatCompactDuration(absl::Hours(24) + absl::Seconds(1)), "1d1s");
  EXPECT_EQ(FormatCompactDuration(-absl::Minutes(5)), "-5m");
  EXPECT_EQ(*ParseDuration(FormatCompactDuration(absl::Seconds(93784))), absl::Seconds(93784));
}

TEST(TaskKindTest, ParsesAndNamesTheThreeKinds) {
  for (TaskKind kind : {TaskKind::kCron, TaskKind::kInterval, TaskKind::kOnce}) {
    absl::StatusOr<TaskKind> parsed = ParseTaskKind(std::string(TaskKindName(kind)));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kind);
  }
  EXPECT_EQ(ErrorOf(ParseTaskKind("weekly").status()),
            "task kind \"weekly\": unknown (use cron, interval or once)");
}

TEST(ParseOnceTimeTest, ReadsLocalTimesInTheZoneAndInstantsWithOffsets) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2026-12-24T09:00", "2026-12-24T08:00:00Z"},
      {"2026-12-24 09:00:00", "2026-12-24T08:00:00Z"},
      {"2026-12-24t09:00:30", "2026-12-24T08:00:30Z"},
      {" 2026-07-01T09:00 ", "2026-07-01T07:00:00Z"},
      {"2026-12-24T09:00:00Z", "2026-12-24T09:00:00Z"},
      {"2026-12-24T09:00z", "2026-12-24T09:00:00Z"},
      {"2026-12-24T09:00:00+01:00", "2026-12-24T08:00:00Z"},
      {"2026-12-24T09:00:00-05:30", "2026-12-24T14:30:00Z"},
      {"2026-12-24T09:00:00.250Z", "2026-12-24T09:00:00.25Z"},
      {"2028-02-29T12:00", "2028-02-29T11:00:00Z"},
  };
  for (const auto& [text, expected] : cases) {
    absl::StatusOr<absl::Time> at = ParseOnceTime(text, Berlin());
    ASSERT_TRUE(at.ok()) << text << ": " << at.status();
    EXPECT_EQ(Format(*at), expected) << text;
  }
}

TEST(ParseOnceTimeTest, LocalTimeInADaylightSavingGapMeansTheJump) {
  // Berlin skips 02:00-03:00 on 2026-03-29; the jump is at 01:00 UTC.
  EXPECT_EQ(Format(*ParseOnceTime("2026-03-29T02:30", Berlin())), "2026-03-29T01:00:00Z");
  EXPECT_EQ(Format(*ParseOnceTime("2026-03-29T02:30:00.5", Berlin())), "2026-03-29T01:00:00Z");
}

TEST(ParseOnceTimeTest, RepeatedLocalTimeMeansItsFirstOccurrence) {
  // Berlin has 02:00-03:00 twice on 2026-10-25: first CEST (+02), then CET (+01).
  EXPECT_EQ(Format(*ParseOnceTime("2026-10-25T02:30", Berlin())), "2026-10-25T00:30:00Z");
}

TEST(ParseOnceTimeTest, RejectsMalformedTimesSayingWhy) {
  const std::string kFormat =
      "expected YYYY-MM-DDTHH:MM[:SS] with an optional Z or +HH:MM offset, e.g. 2026-12-24T09:00";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2026-13-01T09:00", "month 13 out of range 1-12"},
      {"2026-00-01T09:00", "month 0 out of range 1-12"},
      {"2026-02-29T09:00", "day 29 out of range 1-28 for 2026-02"},
      {"2026-04-31 10:00", "day 31 out of range 1-30 for 2026-04"},
      {"2026-12-24T24:00", "hour 24 out of range 0-23"},
      {"2026-12-24T09:60", "minute 60 out of range 0-59"},
      {"2026-12-24T09:00:60", "second 60 out of range 0-59"},
      {"2026-12-24", kFormat},
      {"tomorrow 9am", kFormat},
      {"2026-12-24T9:00", kFormat},
      {"2026-12-24T09:00:00+25:00", kFormat},
      {"2026-12-24T09:00:00+0100", kFormat},
      {"2026-12-24T09:00:00.Z", kFormat},
      {"2026-12-24T09:00 Europe/Berlin", kFormat},
  };
  for (const auto& [text, cause] : cases) {
    EXPECT_EQ(ErrorOf(ParseOnceTime(text, Berlin()).status()), "once \"" + text + "\": " + cause);
  }
}

TEST(LoadZoneTest, RejectsUnknownAndEmptyNames) {
  EXPECT_TRUE(LoadZone("Europe/Berlin").ok());
  EXPECT_EQ(ErrorOf(LoadZone("Mars/Base").status()),
            "time zone \"Mars/Base\": not in the time zone database (expected an IANA name such "
            "as Europe/Berlin)");
  EXPECT_EQ(ErrorOf(LoadZone("").status()),
            "time zone \"\": not in the time zone database (expected an IANA name such as "
            "Europe/Berlin)");
}

TEST(ScheduleParseTest, RejectsInvalidSchedulesWithTheCause) {
  EXPECT_EQ(ErrorOf(Schedule::Parse(TaskKind::kCron, "61 * * * *", "UTC").status()),
            "cron \"61 * * * *\": minute 61 out of range 0-59");
  EXPECT_EQ(ErrorOf(Schedule::Parse(TaskKind::kCron, "0 9 * * *", "Mars/Base").status()),
            "time zone \"Mars/Base\": not in the time zone database (expected an IANA name such "
            "as Europe/Berlin)");
  EXPECT_EQ(ErrorOf(Schedule::Parse(TaskKind::kInterval, "30s", "UTC").status()),
            "interval \"30s\": shorter than the minimum of 1m");
  EXPECT_EQ(ErrorOf(Schedule::Parse(TaskKind::kInterval, "0", "UTC").status()),
            "interval \"0\": shorter than the minimum of 1m");
  EXPECT_EQ(ErrorOf(Schedule::Parse(TaskKind::kInterval, "1000000000d", "UTC").status()),
            "interval \"1000000000d\": longer than the maximum of 36500d");
  EXPECT_TRUE(Schedule::Parse(TaskKind::kInterval, "36500d", "UTC").ok());
  for (const char* path : {"/etc/localtime", "../../../etc/localtime", "Europe/../Europe/Berlin",
                           "localtime", "/usr/share/zoneinfo/Europe/Berlin"}) {
    EXPECT_FALSE(LoadZone(path).ok()) << path;
  }
  EXPECT_TRUE(LoadZone("Europe/Berlin").ok());
  EXPECT_EQ(ErrorOf(ValidateNewSchedule(TaskKind::kOnce, "9999-12-31T23:59:59-12:00", "UTC",
                                        absl::FromUnixSeconds(1767949200))),
            "once \"9999-12-31T23:59:59-12:00\": after the year 9999");
  EXPECT_TRUE(ValidateNewSchedule(TaskKind::kOnce, "9999-12-31T11:00:00Z", "UTC",
                                  absl::FromUnixSeconds(1767949200))
                  .ok());
  EXPECT_EQ(ErrorOf(Schedule::Parse(TaskKind::kInterval, "1x", "UTC").status()),
            "interval \"1x\": unknown unit \"x\" (use d, h, m or s)");
  EXPECT_EQ(ErrorOf(Schedule::Parse(TaskKind::kOnce, "2026-12-24T09:00", "").status()),
            "time zone \"\": not in the time zone database (expected an IANA name such as "
            "Europe/Berlin)");
  EXPECT_EQ(ErrorOf(Schedule::Parse(TaskKind::kOnce, "soon", "").status()),
            "once \"soon\": expected YYYY-MM-DDTHH:MM[:SS] with an optional Z or +HH:MM offset, "
            "e.g. 2026-12-24T09:00");
}

TEST(ScheduleParseTest, IntervalIgnoresTheZoneAndOnceWithOffsetNeedsNone) {
  EXPECT_TRUE(Schedule::Parse(TaskKind::kInterval, "1m", "").ok());
  const Schedule once = MustParse(TaskKind::kOnce, "2026-12-24T09:00:00Z", "");
  EXPECT_EQ(Format(once.NextDue(std::nullopt, Utc("2026-01-01T00:00:00Z"))),
            "2026-12-24T09:00:00Z");
}

TEST(CronNextDueTest, NewTaskRunsAtTheFirstMatchAfterNow) {
  const Schedule cron = MustParse(TaskKind::kCron, "0 9 * * *", "Europe/Berlin");
  EXPECT_EQ(Format(cron.NextDue(std::nullopt, Utc("2026-12-24T07:59:59Z"))),
            "2026-12-24T08:00:00Z");
  EXPECT_EQ(Format(cron.NextDue(std::nullopt, Utc("2026-12-24T08:00:00Z"))),
            "2026-12-25T08:00:00Z");
}

TEST(CronNextDueTest, MissedRunsAreNotCaughtUp) {
  const Schedule cron = MustParse(TaskKind::kCron, "0 * * * *", "UTC");
  // Down from 10:00 to 13:20: the next due time is 14:00, not 11:00.
  EXPECT_EQ(Format(cron.NextDue(Utc("2026-05-01T10:00:00Z"), Utc("2026-05-01T13:20:00Z"))),
            "2026-05-01T14:00:00Z");
}

TEST(CronNextDueTest, NeverReturnsTheClaimedDueTimeAgain) {
  const Schedule cron = MustParse(TaskKind::kCron, "0 * * * *", "UTC");
  // Claimed a little early (clock skew between schedulers): still the next hour.
  EXPECT_EQ(Format(cron.NextDue(Utc("2026-05-01T10:00:00Z"), Utc("2026-05-01T09:59:58Z"))),
            "2026-05-01T11:00:00Z");
}

TEST(IntervalNextDueTest, NewTaskIsDueOneIntervalFromNow) {
  const Schedule interval = MustParse(TaskKind::kInterval, "1h30m", "UTC");
  EXPECT_EQ(Format(interval.NextDue(std::nullopt, Utc("2026-05-01T10:00:10Z"))),
            "2026-05-01T11:30:10Z");
}

TEST(IntervalNextDueTest, IsAnchoredToThePreviousDueTimeWithoutDrift) {
  const Schedule interval = MustParse(TaskKind::kInterval, "15m", "UTC");
  std::optional<absl::Time> due = Utc("2026-05-01T10:00:00Z");
  // Each run is claimed 7 seconds late; the due times stay on the quarter hour.
  for (int i = 0; i < 100; ++i) due = interval.NextDue(due, *due + absl::Seconds(7));
  EXPECT_EQ(Format(due), "2026-05-02T11:00:00Z");
}

TEST(IntervalNextDueTest, SkipsMissedRunsAfterDowntime) {
  const Schedule interval = MustParse(TaskKind::kInterval, "1h", "UTC");
  const absl::Time previous = Utc("2026-05-01T10:00:00Z");
  EXPECT_EQ(Format(interval.NextDue(previous, Utc("2026-05-01T13:30:00Z"))),
            "2026-05-01T14:00:00Z");
  // Exactly on a multiple: strictly after now.
  EXPECT_EQ(Format(interval.NextDue(previous, Utc("2026-05-01T13:00:00Z"))),
            "2026-05-01T14:00:00Z");
  EXPECT_EQ(Format(interval.NextDue(previous, Utc("2026-05-01T10:59:59Z"))),
            "2026-05-01T11:00:00Z");
}

TEST(IntervalNextDueTest, IsElapsedTimeAcrossDaylightSavingChanges) {
  // 1d is 24 hours: across Berlin's spring change it lands at 10:00 local, not 09:00.
  const Schedule interval = MustParse(TaskKind::kInterval, "1d", "Europe/Berlin");
  EXPECT_EQ(Format(interval.NextDue(Utc("2026-03-28T08:00:00Z"), Utc("2026-03-28T08:00:01Z"))),
            "2026-03-29T08:00:00Z");
}

TEST(OnceNextDueTest, IsDueOnceEvenWhenOverdueThenNever) {
  const Schedule once = MustParse(TaskKind::kOnce, "2026-12-24T09:00", "Europe/Berlin");
  EXPECT_EQ(Format(once.NextDue(std::nullopt, Utc("2026-12-01T00:00:00Z"))),
            "2026-12-24T08:00:00Z");
  // The router was down at the due time: still due, not skipped.
  EXPECT_EQ(Format(once.NextDue(std::nullopt, Utc("2026-12-25T00:00:00Z"))),
            "2026-12-24T08:00:00Z");
  EXPECT_EQ(once.NextDue(Utc("2026-12-24T08:00:00Z"), Utc("2026-12-24T08:00:05Z")), std::nullopt);
}

TEST(ValidateNewScheduleTest, RefusesOnceTimesAlreadyPast) {
  const absl::Time now = Utc("2026-05-01T12:00:00Z");
  EXPECT_EQ(ErrorOf(ValidateNewSchedule(TaskKind::kOnce, "2020-01-01T09:00", "Europe/Berlin", now)),
            "once \"2020-01-01T09:00\": 2020-01-01T08:00:00Z is in the past");
  EXPECT_EQ(ErrorOf(ValidateNewSchedule(TaskKind::kOnce, "2026-05-01T12:00:00Z", "UTC", now)),
            "once \"2026-05-01T12:00:00Z\": 2026-05-01T12:00:00Z is in the past");
  EXPECT_TRUE(ValidateNewSchedule(TaskKind::kOnce, "2026-05-01T12:00:01Z", "UTC", now).ok());
  EXPECT_TRUE(ValidateNewSchedule(TaskKind::kCron, "*/5 * * * *", "UTC", now).ok());
  EXPECT_EQ(
      ErrorOf(ValidateNewSchedule(TaskKind::kCron, "* * *", "UTC", now)),
      "cron \"* * *\": expected 5 fields (minute hour day-of-month month day-of-week), got 3");
}

TEST(NextDueTest, ParsesStoredStringsAndComputesTheNextDueTime) {
  absl::StatusOr<std::optional<absl::Time>> next =
      NextDue(TaskKind::kCron, "*/20 * * * *", "America/New_York", Utc("2026-03-08T06:40:00Z"),
              Utc("2026-03-08T06:40:02Z"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(Format(*next), "2026-03-08T07:00:00Z");

  EXPECT_EQ(
      ErrorOf(NextDue(TaskKind::kInterval, "soon", "UTC", std::nullopt, Utc("2026-03-08T06:40:00Z"))
                  .status()),
      "interval \"soon\": unexpected \"s\" (expected e.g. 45s, 30m, 1h30m, 2d or 90)");
}

}  // namespace
}  // namespace clawdie
