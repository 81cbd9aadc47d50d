// Every configuration key a clawdie binary knows (common/config_keys.cc) is documented in
// deploy/clawdie.conf.sample and docs/configuration.md, and the sample sets no key that
// does not exist.
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "common/config.h"
#include "gtest/gtest.h"

namespace clawdie {
namespace {

std::string ReadSource(const std::string& relative) {
  std::ifstream in(std::string(CLAWDIE_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Keys shown in the sample as `KEY=` or `#KEY=` at the start of a line.
std::set<std::string> SampleKeys(const std::string& sample) {
  static const std::regex kLine(R"(^#?([A-Z][A-Z0-9_]*)=)", std::regex::multiline);
  std::set<std::string> keys;
  for (std::sregex_iterator it(sample.begin(), sample.end(), kLine), end; it != end; ++it) {
    keys.insert((*it)[1]);
  }
  return keys;
}

TEST(ConfigDocsTest, SampleShowsEveryKnownKey) {
  std::set<std::string> keys = SampleKeys(ReadSource("deploy/clawdie.conf.sample"));
  ASSERT_FALSE(keys.empty()) << "deploy/clawdie.conf.sample missing or empty";
  for (const ConfigKey& key : KnownConfigKeys()) {
    EXPECT_EQ(keys.count(key.name), 1u) << key.name << " is not in deploy/clawdie.conf.sample";
  }
}

TEST(ConfigDocsTest, ConfigurationPageDescribesEveryKnownKey) {
  std::string page = ReadSource("docs/configuration.md");
  ASSERT_FALSE(page.empty()) << "docs/configuration.md missing or empty";
  for (const ConfigKey& key : KnownConfigKeys()) {
    EXPECT_NE(page.find("`" + std::string(key.name) + "`"), std::string::npos)
        << key.name << " is not in docs/configuration.md";
  }
}

TEST(ConfigDocsTest, SampleSecretsAreEmptyAndMarked) {
  std::string sample = ReadSource("deploy/clawdie.conf.sample");
  for (const ConfigKey& key : KnownConfigKeys()) {
    if (!key.secret) continue;
    // A secret is shown only commented out with no value, never a placeholder that looks real.
    EXPECT_NE(sample.find("\n#" + std::string(key.name) + "=\n"), std::string::npos)
        << key.name << " should appear as an empty, commented line";
  }
  EXPECT_NE(sample.find("[secret]"), std::string::npos);
}

}  // namespace
}  // namespace clawdie
