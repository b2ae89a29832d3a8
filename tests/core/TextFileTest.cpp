// Whole-file reading (core/TextFile.hpp): the bytes as written, including NUL and no final
// newline; nullopt for a missing file and for a directory (which opens but cannot be read).
#include "nurec/core/TextFile.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/TempDir.hpp"

using namespace nurec;

TEST(TextFile, ReadsExactBytesAndRefusesWhatIsNotAFile) {
  TempDir dir;
  const std::string bytes = std::string("a: 1\nb: [2, 3]\n") + '\0' + "tail";
  std::ofstream(dir.file("card.yaml"), std::ios::binary) << bytes;
  const auto text = readWholeFile(dir.file("card.yaml"));
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, bytes);
  std::ofstream(dir.file("empty.json")).close();
  EXPECT_EQ(readWholeFile(dir.file("empty.json")), std::string());
  EXPECT_FALSE(readWholeFile(dir.file("missing.yaml")).has_value());
  std::filesystem::create_directories(dir.file("folder"));
  EXPECT_FALSE(readWholeFile(dir.file("folder")).has_value());
}
