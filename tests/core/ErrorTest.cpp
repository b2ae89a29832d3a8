#include "nurec/core/Error.hpp"

#include <gtest/gtest.h>

namespace nurec {
namespace {

std::string messageOf(const std::string& value, const std::vector<std::string>& names) {
  try {
    requireOneOf(value, names, "sampler.name");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Error, RequireOneOfNamesEveryAcceptedValueAndTheBadOne) {
  EXPECT_EQ(messageOf("ddim", {"pndm", "ddim"}), "");
  EXPECT_EQ(messageOf("dim", {"pndm", "ddim"}),
            "sampler.name must be 'pndm' or 'ddim' (got 'dim')");
  EXPECT_EQ(messageOf("", {"a", "b", "c"}), "sampler.name must be 'a', 'b' or 'c' (got '')");
  EXPECT_EQ(messageOf("b", {"a"}), "sampler.name must be 'a' (got 'b')");
}

TEST(Error, PrintableExcerptEscapesControlBytesAndCuts) {
  EXPECT_EQ(printableExcerpt(std::string("ab\x1b\n", 4)), "ab\\x1b\\x0a");
  EXPECT_EQ(printableExcerpt("abcdef", 3), "abc...");
}

}  // namespace
}  // namespace nurec
