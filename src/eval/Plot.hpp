#pragma once
// A small gnuplot driver: a figure is a gnuplot script body plus its data files; render() writes
// both under <dir>/data/ and runs gnuplot once, producing <dir>/<name>.png and <dir>/<name>.svg.
// The script and data stay beside the images, so a figure can be restyled and re-run by hand.
#include <string>
#include <utility>
#include <vector>

namespace nurec::eval {

struct Figure {
  std::string name;  // file stem, e.g. "residuals_tau_plus"
  std::string body;  // gnuplot commands (no terminal/output); data as 'data/<file>'
  std::vector<std::pair<std::string, std::string>> dataFiles;  // (file name, contents)
  int widthPx = 900;
  int heightPx = 600;
};

// True if a gnuplot executable is on PATH.
bool gnuplotAvailable();
// Which PNG terminal this gnuplot offers ("pngcairo" preferred, else "png"); empty if none.
std::string gnuplotPngTerminal();

// Writes the data and script and runs gnuplot. Throws nurec::Error with gnuplot's own message if
// gnuplot is missing or fails.
void renderFigure(const std::string& dir, const Figure& figure);

// Escapes a string for a single-quoted gnuplot string literal.
std::string gnuplotQuote(const std::string& text);

// A colour-blind-safe palette (Okabe-Ito) for method curves, by index.
const char* plotColour(std::size_t index);

}  // namespace nurec::eval
