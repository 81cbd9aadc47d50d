#include "common/config.h"

#include "gtest/gtest.h"

namespace clawdie {
namespace {

TEST(ConfigTest, ParsesCommentsQuotesAndExport) {
  absl::StatusOr<Config> config = Config::Parse(
      "# a comment\n"
      "\n"
      "ASSISTANT_NAME=Andy\n"
      "export TZ=Europe/Stockholm\n"
      "CLAWDIE_MODEL=\"claude model\"  # trailing comment\n"
      "LITERAL='a \\n b'\n"
      "ESCAPED=\"line\\none\"\n"
      "BARE=value # comment\n"
      "EMPTY=\n",
      "test.conf");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetString("ASSISTANT_NAME"), "Andy");
  EXPECT_EQ(config->GetString("TZ"), "Europe/Stockholm");
  EXPECT_EQ(config->GetString("CLAWDIE_MODEL"), "claude model");
  EXPECT_EQ(config->GetString("LITERAL"), "a \\n b");
  EXPECT_EQ(config->GetString("ESCAPED"), "line\none");
  EXPECT_EQ(config->GetString("BARE"), "value");
  EXPECT_EQ(config->GetString("EMPTY"), "");
  EXPECT_TRUE(config->Has("EMPTY"));
}

TEST(ConfigTest, RejectsLineWithoutEqualsNamingLine) {
  absl::StatusOr<Config> config = Config::Parse("A=1\nthis is not a setting\n", "x.conf");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(), "config x.conf line 2: expected KEY=VALUE");
}

TEST(ConfigTest, RejectsBadKeyAndUnterminatedQuote) {
  EXPECT_EQ(Config::Parse("1ABC=x\n", "c").status().message(),
            "config c line 1: invalid key \"1ABC\"");
  EXPECT_EQ(Config::Parse("A-B=x\n", "c").status().message(),
            "config c line 1: invalid key \"A-B\"");
  EXPECT_EQ(Config::Parse("A=\"open\n", "c").status().message(),
            "config c line 1: A: unterminated quote");
  EXPECT_EQ(Config::Parse("A=\"x\" y\n", "c").status().message(),
            "config c line 1: A: text after closing quote");
}

TEST(ConfigTest, EnvironmentOverridesFileForKnownAndFileKeys) {
  char path[] = "/tmp/clawdie_config_testXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string text = "TZ=UTC\nCUSTOM=file\nASSISTANT_NAME=Andy\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);

  char tz[] = "TZ=Asia/Tokyo";
  char custom[] = "CUSTOM=env";
  char unrelated[] = "HOME=/root";
  char* env[] = {tz, custom, unrelated, nullptr};
  absl::StatusOr<Config> config = Config::Load(path, true, env);
  unlink(path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetString("TZ"), "Asia/Tokyo");
  EXPECT_EQ(config->GetString("CUSTOM"), "env");
  EXPECT_EQ(config->GetString("ASSISTANT_NAME"), "Andy");
  EXPECT_FALSE(config->Has("HOME"));

  config->Set("TZ", "Europe/Paris");
  EXPECT_EQ(config->GetString("TZ"), "Europe/Paris");
}

TEST(ConfigTest, MissingRequiredFileIsNotFoundOptionalIsEmpty) {
  absl::StatusOr<Config> required = Config::Load("/nonexistent/clawdie.conf", true, nullptr);
  EXPECT_EQ(required.status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<Config> optional = Config::Load("/nonexistent/clawdie.conf", false, nullptr);
  ASSERT_TRUE(optional.ok());
  EXPECT_TRUE(optional->values().empty());
}

TEST(ConfigTest, TypedGettersNameTheKey) {
  Config config = *Config::Parse("N=12\nBAD=twelve\nB=yes\nD=1h30m\nDD=2d\nDS=90\nX=soon\n", "c");
  EXPECT_EQ(*config.GetInt("N", 0), 12);
  EXPECT_EQ(*config.GetInt("MISSING", 7), 7);
  EXPECT_EQ(config.GetInt("BAD", 0).status().message(), "config BAD: \"twelve\" is not an integer");
  EXPECT_TRUE(*config.GetBool("B", false));
  EXPECT_EQ(config.GetBool("N", false).status().message(),
            "config N: \"12\" is not a boolean (use true or false)");
  EXPECT_EQ(*config.GetDuration("D", absl::ZeroDuration()), absl::Minutes(90));
  EXPECT_EQ(*config.GetDuration("DD", absl::ZeroDuration()), absl::Hours(48));
  EXPECT_EQ(*config.GetDuration("DS", absl::ZeroDuration()), absl::Seconds(90));
  absl::Status bad = config.GetDuration("X", absl::ZeroDuration()).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(bad.message()).rfind("config X: duration \"soon\"", 0), 0u) << bad;
}

TEST(ConfigTest, DefaultsComeFromTheRegistry) {
  Config config;
  EXPECT_EQ(config.GetString("ASSISTANT_NAME"), "Andy");
  EXPECT_EQ(config.GetString("MAX_CONCURRENT_AGENTS"), "5");
  EXPECT_EQ(config.GetString("NOT_A_KEY"), "");
  EXPECT_EQ(config.GetString("NOT_A_KEY", "fallback"), "fallback");
}

TEST(ConfigTest, RedactsSecretsAndListsUnknownKeys) {
  Config config = *Config::Parse(
      "TELEGRAM_BOT_TOKEN=123:abc\nANTHROPIC_API_KEY=sk-secret\nMY_PASSWORD=pw\n"
      "TZ=UTC\nTYPO_KEY=1\n",
      "c");
  std::string redacted = config.Redacted();
  EXPECT_EQ(redacted,
            "ANTHROPIC_API_KEY=<redacted> MY_PASSWORD=<redacted> TELEGRAM_BOT_TOKEN=<redacted> "
            "TYPO_KEY=<redacted> TZ=UTC");
  EXPECT_EQ(redacted.find("sk-secret"), std::string::npos);
  EXPECT_EQ(config.UnknownKeys(), (std::vector<std::string>{"MY_PASSWORD", "TYPO_KEY"}));
}

}  // namespace
}  // namespace clawdie
