#include "nurec/eval/Plot.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/TextFile.hpp"

namespace nurec::eval {

namespace {

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

int runShell(const std::string& command) {
  const int status = std::system(command.c_str());
  if (status == -1) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

bool gnuplotAvailable() {
  static const bool available = runShell("command -v gnuplot > /dev/null 2>&1") == 0;
  return available;
}

std::string gnuplotPngTerminal() {
  static const std::string terminal = [] {
    if (!gnuplotAvailable()) return std::string();
    if (runShell("gnuplot -e 'set terminal pngcairo' > /dev/null 2>&1") == 0)
      return std::string("pngcairo");
    if (runShell("gnuplot -e 'set terminal png' > /dev/null 2>&1") == 0) return std::string("png");
    return std::string();
  }();
  return terminal;
}

std::string gnuplotQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "''";
    else
      out += c;
  }
  return out + "'";
}

const char* plotColour(std::size_t index) {
  static const char* colours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                  "#E69F00", "#56B4E9", "#F0E442", "#000000"};
  return colours[index % (sizeof(colours) / sizeof(colours[0]))];
}

void renderFigure(const std::string& dir, const Figure& figure) {
  if (!gnuplotAvailable())
    throw Error(
        "gnuplot not found on PATH: install it (Debian: apt-get install gnuplot-nox) or "
        "run without plots (--no-plots)");
  const std::string png = gnuplotPngTerminal();
  if (png.empty())
    throw Error("this gnuplot has neither the pngcairo nor the png terminal; install gnuplot-nox");
  namespace fs = std::filesystem;
  const fs::path root(dir), data = fs::path(dir) / "data";
  fs::create_directories(data);
  for (const auto& [file, contents] : figure.dataFiles)
    writeTextFileAtomically((data / file).string(), contents);
  const std::string bodyFile = figure.name + ".body.gp";
  writeTextFileAtomically((data / bodyFile).string(),
                          "reset\nset encoding utf8\n" + figure.body + "\n");
  const std::string font = "DejaVu Sans,11";
  std::ostringstream script;
  script << "# Renders " << figure.name << ".png and " << figure.name
         << ".svg; run from the directory above data/: gnuplot data/" << figure.name << ".gp\n";
  script << fmt::format("set terminal {} size {},{} enhanced font '{}' background rgb 'white'\n",
                        png, figure.widthPx, figure.heightPx, font);
  script << "set output '" << figure.name << ".png'\nload 'data/" << bodyFile
         << "'\nunset output\n";
  script << fmt::format("set terminal svg size {},{} enhanced font '{}' background rgb 'white'\n",
                        figure.widthPx, figure.heightPx, font);
  script << "set output '" << figure.name << ".svg'\nload 'data/" << bodyFile
         << "'\nunset output\n";
  writeTextFileAtomically((data / (figure.name + ".gp")).string(), script.str());
  const std::string log = "data/" + figure.name + ".log";
  const int rc =
      runShell("cd " + shellQuote(root.string()) + " && gnuplot " +
               shellQuote("data/" + figure.name + ".gp") + " > " + shellQuote(log) + " 2>&1");
  const std::string logText = readWholeFile((root / log).string()).value_or("");
  if (rc != 0) {
    throw Error(fmt::format("gnuplot failed on {} (exit {}):\n{}",
                            (data / (figure.name + ".gp")).string(), rc, logText));
  }
  if (logText.empty()) fs::remove(root / log);
}

}  // namespace nurec::eval
