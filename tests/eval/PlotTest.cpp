// The gnuplot driver writes PNG and SVG, and reports gnuplot's own error on a bad script.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/eval/Plot.hpp"

using namespace nurec;
using namespace nurec::eval;

TEST(Plot, RendersPngAndSvg) {
  if (!gnuplotAvailable()) GTEST_SKIP() << "gnuplot not installed";
  TempDir dir;
  Figure f;
  f.name = "line";
  f.dataFiles = {{"line.dat", "0 0\n1 1\n2 4\n"}};
  f.body = "set title 'it''s a test'\nset xlabel 'x [GeV]'\nplot 'data/line.dat' u 1:2 w lp t 'y'";
  renderFigure(dir.path.string(), f);
  std::ifstream png(dir.file("line.png"), std::ios::binary);
  std::string magic(4, '\0');
  png.read(magic.data(), 4);
  EXPECT_EQ(magic.substr(1, 3), "PNG");
  std::ifstream svg(dir.file("line.svg"));
  const std::string text((std::istreambuf_iterator<char>(svg)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir.file("data/line.gp")));
}

TEST(Plot, BadScriptThrowsWithGnuplotMessage) {
  if (!gnuplotAvailable()) GTEST_SKIP() << "gnuplot not installed";
  TempDir dir;
  Figure f;
  f.name = "bad";
  f.body = "plot 'data/does-not-exist.dat' u 1:2";
  try {
    renderFigure(dir.path.string(), f);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does-not-exist"), std::string::npos) << e.what();
  }
}

TEST(Plot, Quoting) {
  EXPECT_EQ(gnuplotQuote("a'b"), "'a''b'");
}
