// core/ShippedFiles: the search order $NUREC_DATA_DIR, <exe>/../share/nurec,
// <libnurec_core.so>/../share/nurec, source tree.
#include "nurec/core/ShippedFiles.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace nurec;
namespace fs = std::filesystem;

TEST(ShippedFiles, SearchOrder) {
  const auto c =
      shippedFileCandidates("data/x.json", "/env", "/home/me/ana/bin", "/opt/nurec/lib", "/src");
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0], "/env/data/x.json");
  EXPECT_EQ(c[1], "/home/me/ana/share/nurec/data/x.json");
  EXPECT_EQ(c[2], "/opt/nurec/share/nurec/data/x.json");
  EXPECT_EQ(c[3], "/src/data/x.json");
  // An installed nurec: bin/ and lib/ share one prefix, which is listed once.
  EXPECT_EQ(shippedFileCandidates("data/x.json", "", "/opt/nurec/bin", "/opt/nurec/lib", "/src"),
            (std::vector<std::string>{"/opt/nurec/share/nurec/data/x.json", "/src/data/x.json"}));
  // Unset environment, unknown executable and static library: the source tree only.
  EXPECT_EQ(shippedFileCandidates("models/m", "", "", "", "/src"),
            std::vector<std::string>{"/src/models/m"});
}

TEST(ShippedFiles, EnvironmentWinsWhenTheFileIsThere) {
  const fs::path dir = fs::temp_directory_path() / ("nurec_shipped_" + std::to_string(getpid()));
  fs::create_directories(dir / "data" / "mmc");
  std::ofstream(dir / "data" / "mmc" / "mmc_pdfs_v1.json") << "{}";
  ::setenv("NUREC_DATA_DIR", dir.c_str(), 1);
  EXPECT_EQ(shippedFile("data/mmc/mmc_pdfs_v1.json"),
            (dir / "data" / "mmc" / "mmc_pdfs_v1.json").string());
  // A file the folder does not hold is still found in the source tree.
  EXPECT_TRUE(fs::exists(shippedFile("data/spin-response/truth.json")));
  EXPECT_NE(shippedFileSearchText("data/none.json").find(dir.string()), std::string::npos);
  ::unsetenv("NUREC_DATA_DIR");
  fs::remove_all(dir);
  EXPECT_TRUE(fs::exists(shippedFile("data/mmc/mmc_pdfs_v1.json")));  // the source tree's
}
