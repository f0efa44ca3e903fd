// Log lines: JSON objects with escaped strings, or key=value text.
#include "base/log.h"

#include <gtest/gtest.h>

namespace arbor::log {
namespace {

TEST(Log, JsonLine) {
  std::string line = FormatLine(Format::kJson, 0, Level::kWarn, "say \"hi\"\n",
                                {{"route", "/v1/x"}, {"status", 200}, {"ctl", "\x01"}});
  EXPECT_EQ(line,
            "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"level\":\"warn\",\"msg\":\"say "
            "\\\"hi\\\"\\n\",\"route\":\"/v1/x\",\"status\":200,\"ctl\":\"\\u0001\"}\n");
}

TEST(Log, TextLine) {
  std::string line =
      FormatLine(Format::kText, 0, Level::kInfo, "request", {{"route", "/a b"}, {"ms", 1.5}});
  EXPECT_EQ(line, "1970-01-01T00:00:00.000Z info request route=\"/a b\" ms=1.500\n");
}

}  // namespace
}  // namespace arbor::log
