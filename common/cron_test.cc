#include "common/cron.h"

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace clawdie {
namespace {

absl::Time Utc(const std::string& rfc3339) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error)) << rfc3339 << ": " << error;
  return t;
}

std::string Format(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::TimeZone Zone(const std::string& name) {
  absl::TimeZone zone;
  EXPECT_TRUE(absl::LoadTimeZone(name, &zone)) << name;
  return zone;
}

CronExpression MustParse(const std::string& text) {
  absl::StatusOr<CronExpression> cron = ParseCron(text);
  EXPECT_TRUE(cron.ok()) << cron.status();
  return cron.ok() ? *cron : CronExpression{};
}

// Returns the next `count` runs after `after`, each computed from the previous one.
std::vector<std::string> Runs(const std::string& expr, const std::string& zone,
                              const std::string& after, int count) {
  const CronExpression cron = MustParse(expr);
  std::vector<std::string> runs;
  absl::Time t = Utc(after);
  for (int i = 0; i < count; ++i) {
    t = NextRun(cron, Zone(zone), t);
    runs.push_back(Format(t));
  }
  return runs;
}

TEST(CronFixtureTest, EveryReferenceCaseMatches) {
  const std::string path = std::string(CLAWDIE_SHARED_FIXTURES) + "/cron/next_run.json";
  std::ifstream file(path);
  ASSERT_TRUE(file.good()) << "cannot open " << path;
  std::stringstream text;
  text << file.rdbuf();
  const nlohmann::json cases = nlohmann::json::parse(text.str(), nullptr, false);
  ASSERT_FALSE(cases.is_discarded()) << path << " is not JSON";
  ASSERT_EQ(cases.size(), 15u);

  for (const nlohmann::json& c : cases) {
    const std::string expr = c.at("expr").get<std::string>();
    SCOPED_TRACE(expr + " in " + c.at("tz").get<std::string>());
    const std::vector<std::string> expected = c.at("next_utc").get<std::vector<std::string>>();
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(Runs(expr, c.at("tz").get<std::string>(), c.at("after_utc").get<std::string>(),
                   static_cast<int>(expected.size())),
              expected);
  }
}

TEST(CronParseTest, RejectsBadExpressionsSayingWhatAndWhere) {
  const std::string kFields = "(minute hour day-of-month month day-of-week)";
  const std::string kNever = "never fires: no date satisfies the day-of-month, month and ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"61 * * * *", "minute 61 out of range 0-59"},
      {"* 24 * * *", "hour 24 out of range 0-23"},
      {"* * 0 * *", "day-of-month 0 out of range 1-31"},
      {"* * 32 * *", "day-of-month 32 out of range 1-31"},
      {"* * * 13 *", "month 13 out of range 1-12"},
      {"* * * * 8", "day-of-week 8 out of range 0-7"},
      {"99999999999 * * * *", "minute 99999999999 out of range 0-59"},
      {"* * * *", "expected 5 fields " + kFields + ", got 4"},
      {"* * * * * echo", "expected 5 fields " + kFields + ", got 6"},
      {"", "empty expression"},
      {"   ", "empty expression"},
      {"@reboot",
       "unknown shorthand @reboot (use @hourly, @daily, @midnight, @weekly, @monthly, @yearly or "
       "@annually)"},
      {"*/0 * * * *", "minute step \"0\" must be a number from 1 to 60"},
      {"*/61 * * * *", "minute step \"61\" must be a number from 1 to 60"},
      {"* */x * * *", "hour step \"x\" must be a number from 1 to 24"},
      {"*/5/2 * * * *", "minute \"*/5/2\" has more than one step"},
      {"5/15 * * * *", "minute \"5/15\": a step needs a range or *, e.g. 5-59/15"},
      {"30-10 * * * *", "minute range \"30-10\" runs backwards"},
      {"* * * * FRI-MON", "day-of-week range \"FRI-MON\" runs backwards"},
      {"1-2-3 * * * *", "minute range \"1-2-3\" has more than two ends"},
      {"-5 * * * *", "minute \"\" is not a number"},
      {"1,,2 * * * *", "minute \"1,,2\" has an empty list element"},
      {"x * * * *", "minute \"x\" is not a number"},
      {"MON * * * *", "minute \"MON\" is not a number"},
      {"* * * foo *", "month \"foo\" is not a number or a month name (jan-dec)"},
      {"* * * january *", "month \"january\" is not a number or a month name (jan-dec)"},
      {"* * * * funday", "day-of-week \"funday\" is not a number or a day name (sun-sat)"},
      {"* * * * 1/2", "day-of-week \"1/2\": a step needs a range or *, e.g. 1-7/2"},
      {"0 0 30 2 *", kNever + "day-of-week fields"},
      {"0 0 31 4,6,9,11 *", kNever + "day-of-week fields"},
  };
  for (const auto& [expr, cause] : cases) {
    absl::StatusOr<CronExpression> cron = ParseCron(expr);
    ASSERT_FALSE(cron.ok()) << expr;
    EXPECT_EQ(cron.status().code(), absl::StatusCode::kInvalidArgument) << expr;
    EXPECT_EQ(cron.status().message(), "cron \"" + expr + "\": " + cause);
  }
}

TEST(CronParseTest, ExpandsListsRangesAndSteps) {
  const CronExpression cron = MustParse("1,10-12,*/20 0-23/6 5-20/5 1-12/4 *");
  EXPECT_EQ(cron.minutes, std::bitset<60>().set(0).set(1).set(10).set(11).set(12).set(20).set(40));
  EXPECT_EQ(cron.hours, std::bitset<24>().set(0).set(6).set(12).set(18));
  EXPECT_EQ(cron.days_of_month, std::bitset<32>().set(5).set(10).set(15).set(20));
  EXPECT_EQ(cron.months, std::bitset<13>().set(1).set(5).set(9));
  EXPECT_EQ(cron.days_of_week, std::bitset<7>().set());
  EXPECT_FALSE(cron.day_of_month_star);
  EXPECT_TRUE(cron.day_of_week_star);
}

TEST(CronParseTest, NamesAreCaseInsensitiveAndSevenIsSunday) {
  const CronExpression names = MustParse("0 0 * jan,Jul,DEC sun,Mon-wed");
  EXPECT_EQ(names.months, std::bitset<13>().set(1).set(7).set(12));
  EXPECT_EQ(names.days_of_week, std::bitset<7>().set(0).set(1).set(2).set(3));

  EXPECT_EQ(MustParse("0 0 * * 7").days_of_week, std::bitset<7>().set(0));
  EXPECT_EQ(MustParse("0 0 * * 5-7").days_of_week, std::bitset<7>().set(0).set(5).set(6));
  EXPECT_EQ(MustParse("0 0 * * */2").days_of_week, std::bitset<7>().set(0).set(2).set(4).set(6));
  EXPECT_EQ(MustParse("0 0 * * mon-fri/2").days_of_week, std::bitset<7>().set(1).set(3).set(5));
}

TEST(CronParseTest, ShorthandsEqualTheirFiveFields) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
      {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
      {"@annually", "0 0 1 1 *"}, {" @DAILY ", "0 0 * * *"},
  };
  for (const auto& [shorthand, fields] : cases) {
    const CronExpression a = MustParse(shorthand);
    const CronExpression b = MustParse(fields);
    EXPECT_EQ(a.minutes, b.minutes) << shorthand;
    EXPECT_EQ(a.hours, b.hours) << shorthand;
    EXPECT_EQ(a.days_of_month, b.days_of_month) << shorthand;
    EXPECT_EQ(a.months, b.months) << shorthand;
    EXPECT_EQ(a.days_of_week, b.days_of_week) << shorthand;
    EXPECT_EQ(a.day_of_month_star, b.day_of_month_star) << shorthand;
    EXPECT_EQ(a.day_of_week_star, b.day_of_week_star) << shorthand;
  }
}

TEST(CronParseTest, KeepsTheTrimmedSourceAndAcceptsTabs) {
  EXPECT_EQ(MustParse("  0\t9  * * 1-5 ").source, "0\t9  * * 1-5");
}

TEST(CronNextRunTest, IsStrictlyAfterTheGivenInstant) {
  EXPECT_EQ(Runs("* * * * *", "UTC", "2026-01-01T10:00:00Z", 2),
            (std::vector<std::string>{"2026-01-01T10:01:00Z", "2026-01-01T10:02:00Z"}));
  EXPECT_EQ(Runs("* * * * *", "UTC", "2026-01-01T10:00:30Z", 1),
            (std::vector<std::string>{"2026-01-01T10:01:00Z"}));
}

TEST(CronNextRunTest, EitherDayFieldMatchesWhenBothAreRestricted) {
  // 2026-01-01 is a Thursday; the 1st or any Monday.
  EXPECT_EQ(Runs("0 0 1 * 1", "UTC", "2025-12-31T12:00:00Z", 4),
            (std::vector<std::string>{"2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z",
                                      "2026-01-12T00:00:00Z", "2026-01-19T00:00:00Z"}));
}

TEST(CronNextRunTest, BothDayFieldsMustMatchWhenOneStartsWithStar) {
  // Vixie: a field starting with `*` counts as unrestricted, so odd days that are Mondays.
  EXPECT_EQ(Runs("0 0 */2 * 1", "UTC", "2025-12-31T12:00:00Z", 3),
            (std::vector<std::string>{"2026-01-05T00:00:00Z", "2026-01-19T00:00:00Z",
                                      "2026-02-09T00:00:00Z"}));
}

TEST(CronNextRunTest, SteppedRangeWithoutStarStillMeansEitherDay) {
  // `1-31/2` does not start with `*`: odd days or Mondays (2026-01-12 is a Monday).
  EXPECT_EQ(Runs("0 0 1-31/2 * mon", "UTC", "2026-01-08T12:00:00Z", 3),
            (std::vector<std::string>{"2026-01-09T00:00:00Z", "2026-01-11T00:00:00Z",
                                      "2026-01-12T00:00:00Z"}));
}

TEST(CronNextRunTest, SkipsCenturyYearsThatAreNotLeap) {
  EXPECT_EQ(Runs("0 12 29 2 *", "UTC", "2096-03-01T00:00:00Z", 2),
            (std::vector<std::string>{"2104-02-29T12:00:00Z", "2108-02-29T12:00:00Z"}));
}

TEST(CronNextRunTest, SkipsByFieldInsteadOfWalkingMinutes) {
  // Eight years to the next 29 February are ~4 million minutes; walking them a thousand
  // times would take far longer than the generous bound below.
  const CronExpression cron = MustParse("0 12 29 2 *");
  const absl::TimeZone zone = Zone("Europe/Berlin");
  const absl::Time after = Utc("2096-03-01T00:00:00Z");
  const absl::Time started = absl::Now();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(Format(NextRun(cron, zone, after)), "2104-02-29T11:00:00Z");
  }
  EXPECT_LT(absl::Now() - started, absl::Seconds(2));
}

TEST(CronNextRunTest, SkippedWallTimeFiresOnceAtTheJump) {
  // Berlin jumps from 02:00 CET to 03:00 CEST at 01:00 UTC on 2026-03-29.
  EXPECT_EQ(Runs("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 3),
            (std::vector<std::string>{"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z",
                                      "2026-03-31T00:30:00Z"}));
  // Every minute of the missing hour collapses into one run at the jump.
  EXPECT_EQ(Runs("* 2 * * *", "Europe/Berlin", "2026-03-29T00:58:00Z", 3),
            (std::vector<std::string>{"2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z",
                                      "2026-03-30T00:01:00Z"}));
}

TEST(CronNextRunTest, RepeatedWallTimeFiresAtItsFirstOccurrenceOnly) {
  // Berlin goes back from 03:00 CEST to 02:00 CET at 01:00 UTC on 2026-10-25.
  EXPECT_EQ(Runs("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 2),
            (std::vector<std::string>{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}));
  // Hourly: 02:00 CEST runs, the second 02:00 (CET) does not, 03:00 CET does.
  EXPECT_EQ(Runs("0 * * * *", "Europe/Berlin", "2026-10-24T23:30:00Z", 3),
            (std::vector<std::string>{"2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z",
                                      "2026-10-25T03:00:00Z"}));
}

TEST(CronNextRunTest, HalfHourDaylightSavingShiftsAreHandled) {
  // Lord Howe Island moves from 02:00 to 02:30 (+10:30 to +11:00) on 2026-10-04,
  // at 15:30 UTC the day before.
  EXPECT_EQ(Runs("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00Z", 2),
            (std::vector<std::string>{"2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"}));
}

TEST(CronMatchesTest, ChecksEveryField) {
  const CronExpression cron = MustParse("30 9 * * MON-FRI");
  EXPECT_TRUE(CronMatches(cron, absl::CivilMinute(2026, 1, 5, 9, 30)));   // Monday
  EXPECT_FALSE(CronMatches(cron, absl::CivilMinute(2026, 1, 4, 9, 30)));  // Sunday
  EXPECT_FALSE(CronMatches(cron, absl::CivilMinute(2026, 1, 5, 9, 31)));
  EXPECT_FALSE(CronMatches(cron, absl::CivilMinute(2026, 1, 5, 10, 30)));
}

}  // namespace
}  // namespace clawdie
