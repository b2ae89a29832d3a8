// The evaluation report: README.md (Markdown tables and the plots), metrics.json (docs/evaluate.md)
// and the gnuplot figures.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nurec/Version.hpp"
#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Statistics.hpp"
#include "nurec/eval/Evaluate.hpp"
#include "nurec/eval/Plot.hpp"

namespace nurec::eval {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string num(double v, int precision = 3) {
  if (!std::isfinite(v)) return "—";
  return fmt::format("{:.{}f}", v, precision);
}
std::string pm(double v, double e, int precision = 3) {
  if (!std::isfinite(v)) return "—";
  if (!std::isfinite(e)) return num(v, precision);
  return fmt::format("{:.{}f} ± {:.{}f}", v, precision, e, precision);
}
std::string percent(double f) {
  if (!std::isfinite(f)) return "—";
  return fmt::format("{:.1f} %", 100 * f);
}
// Appends " text |" (a Markdown table cell).
void cell(std::string& out, const std::string& text) {
  out += ' ';
  out += text;
  out += " |";
}
json jnum(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}

std::string methodLabel(const std::string& m) {
  return m == kVisibleMethod ? "visible only (no ν)" : m;
}

// ---------------------------------------------------------------- Markdown tables

std::string resolutionTable(const GroupResult& g, bool bias) {
  std::string out = "| method |";
  std::string rule = "|---|";
  for (int q = 0; q < kNumQuantities; ++q) {
    out += fmt::format(" {} |", quantityLabel(q));
    rule += "---|";
  }
  out += "\n" + rule + "\n";
  for (const auto& mr : g.methods) {
    out += "| " + methodLabel(mr.method) + " |";
    for (int q = 0; q < kNumQuantities; ++q) {
      const auto& res = mr.quantities[q].resolution;
      cell(out, bias ? pm(res.medianBias, res.medianBiasError) : pm(res.hwhm, res.hwhmError));
    }
    out += "\n";
  }
  return out;
}

std::string distanceTable(const GroupResult& g, double DistributionDistances::*field,
                          int precision) {
  std::string out = "| method |", rule = "|---|";
  for (int q = 0; q < kNumQuantities; ++q) {
    out += fmt::format(" {} |", quantityLabel(q));
    rule += "---|";
  }
  out += " Σ τ components |\n" + rule + "---|\n";
  for (const auto& mr : g.methods) {
    out += "| " + methodLabel(mr.method) + " |";
    for (int q = 0; q < kNumQuantities; ++q)
      cell(out, num(mr.quantities[q].distances.*field, precision));
    cell(out, num(mr.tauSum.*field, precision));
    out += "\n";
  }
  return out;
}

// A coverage, or "—" when no event had an interval.
std::string coverageCell(double coverage, std::size_t events) {
  return events > 0 ? num(coverage) : std::string("—");
}

// One row per subset of the events (a true-mass bin or a decay class), one column per method;
// `rowLabel` names a row, `value` renders a method's cell.
template <typename Rows, typename RowLabel, typename Value>
std::string subsetTable(const EvaluationResult& r, const std::string& header, const Rows& rows,
                        RowLabel rowLabel, Value value) {
  std::string out = "| " + header + " | events |", rule = "|---|---|";
  for (const auto& m : r.methods) {
    out += " " + methodLabel(m) + " |";
    rule += "---|";
  }
  out += "\n" + rule + "\n";
  for (const auto& row : rows) {
    out += fmt::format("| {} | {} |", rowLabel(row), row.events);
    for (const auto& mb : row.methods) cell(out, value(mb));
    out += "\n";
  }
  return out;
}

template <typename Value>
std::string trueMassTable(const EvaluationResult& r, Value value) {
  return subsetTable(
      r, "true m_ττ [GeV]", r.byTrueMass,
      [](const TrueMassBin& b) { return fmt::format("{:g}–{:g}", b.lowGeV, b.highGeV); }, value);
}

// By the taus' true decay modes: the events the shipped models were not trained on.
std::string trueDecaysMarkdown(const EvaluationResult& r) {
  const auto table = [&](auto value) {
    return subsetTable(
        r, "true decay modes", r.byTrueDecays, [](const DecayClass& c) { return c.label; }, value);
  };
  std::string out =
      "The shipped models are trained on taus decaying to π, ρ, e or μ; the signal region also "
      "takes taus of other modes (π π⁰ π⁰, three prongs, kaons) as a π or a ρ. All channels.\n\n";
  out += "**Median bias of m_ττ**\n\n" + table([](const SubsetMethodResult& m) {
           return pm(m.mass.medianBias, m.mass.medianBiasError);
         });
  out += "\n**Mean HWHM of the τ components**\n\n" +
         table([](const SubsetMethodResult& m) { return num(m.meanTauHwhm); });
  out += "\n**Coverage of the per-event 68 % m_ττ intervals: raw / calibrated**\n\n" +
         table([](const SubsetMethodResult& m) {
           return coverageCell(m.massCoverage68, m.coverageEvents) + " / " +
                  coverageCell(m.calibratedCoverage68, m.calibratedCoverageEvents);
         });
  return out;
}

std::string trueMassMarkdown(const EvaluationResult& r) {
  std::string out =
      "A reconstruction that follows the event has a median bias near 0 in every bin; one that "
      "follows the mass spectrum it was trained on is pulled towards that spectrum's peak "
      "(positive bias below the peak, negative above). All channels; relative residuals as "
      "above; a bin needs 20 reconstructed events for a number.\n\n";
  out += "**Median bias of m_ττ, (reco − true)/true**\n\n" +
         trueMassTable(r, [](const SubsetMethodResult& m) {
           return pm(m.mass.medianBias, m.mass.medianBiasError);
         });
  out += "\n**HWHM of m_ττ**\n\n" + trueMassTable(r, [](const SubsetMethodResult& m) {
           return pm(m.mass.hwhm, m.mass.hwhmError);
         });
  out += "\n**Mean HWHM of the τ components (px, py, pz, E of both τ)**\n\n" +
         trueMassTable(r, [](const SubsetMethodResult& m) { return num(m.meanTauHwhm); });
  bool quantiles = false;
  for (const auto& bin : r.byTrueMass)
    for (const auto& m : bin.methods) quantiles = quantiles || m.coverageEvents > 0;
  if (quantiles)
    out +=
        "\n**Coverage of the per-event 68 % m_ττ intervals (16–84 % of the candidates; "
        "0.68 if calibrated)**\n\n" +
        trueMassTable(r, [](const SubsetMethodResult& m) {
          return coverageCell(m.massCoverage68, m.coverageEvents);
        });
  bool calibrated = false;
  for (const auto& bin : r.byTrueMass)
    for (const auto& m : bin.methods) calibrated = calibrated || m.calibratedCoverageEvents > 0;
  if (calibrated)
    out +=
        "\n**Coverage of the calibrated per-event 68 % m_ττ intervals (mtautau_interval68; "
        "0.68 if the calibration holds on this sample)**\n\n" +
        trueMassTable(r, [](const SubsetMethodResult& m) {
          return coverageCell(m.calibratedCoverage68, m.calibratedCoverageEvents);
        });
  out += "\n**Reconstructed m_ττ [GeV]: median [16 %, 84 %]**\n\n" +
         trueMassTable(r, [](const SubsetMethodResult& m) {
           return std::isfinite(m.recoMassMedian)
                      ? fmt::format("{:.1f} [{:.1f}, {:.1f}]", m.recoMassMedian, m.recoMassQ16,
                                    m.recoMassQ84)
                      : std::string("—");
         });
  return out;
}

// ---------------------------------------------------------------- figures

std::string histogramRow(double x, const std::vector<double>& values) {
  std::string line = fmt::format("{:.6g}", x);
  for (double v : values) line += fmt::format(" {:.6g}", v);
  return line + "\n";
}

// Normalised histograms (probability density) of relative residuals in [-1, 1], one column per
// (quantity, method): column 2 + q * nMethods + m.
Figure residualFigure(const EvaluationResult& r, bool mass) {
  const std::size_t nM = r.methods.size();
  constexpr int kBins = 100;
  constexpr double lo = -1, hi = 1, w = (hi - lo) / kBins;
  std::vector<std::vector<double>> cols(kNumQuantities * nM, std::vector<double>(kBins, 0.0));
  for (std::size_t m = 0; m < nM; ++m) {
    for (int q = 0; q < kNumQuantities; ++q) {
      std::size_t used = 0;
      auto& h = cols[q * nM + m];
      for (std::size_t s = 0; s < r.rows.size(); ++s) {
        if (!r.values[m].ok[s]) continue;
        const double res = relativeResidual(r.values[m].reco[s][q], r.truth[s][q]);
        if (!std::isfinite(res)) continue;
        ++used;
        const int b = static_cast<int>(std::floor((res - lo) / w));
        if (b >= 0 && b < kBins) h[b] += 1;
      }
      for (double& v : h) v = used ? v / (static_cast<double>(used) * w) : 0;
    }
  }
  std::string data = "# bin centre, then density per (quantity, method)\n";
  for (int b = 0; b < kBins; ++b) {
    std::vector<double> row;
    for (const auto& c : cols) row.push_back(c[b]);
    data += histogramRow(lo + (b + 0.5) * w, row);
  }
  Figure f;
  f.name = mass ? "residuals_mtautau" : "residuals_tau";
  const std::string dat = f.name + ".dat";
  f.dataFiles = {{dat, data}};
  std::ostringstream s;
  s << "set style fill transparent solid 0.15 noborder\nset grid lc rgb '#dddddd'\n"
       "set xrange [-1:1]\nset yrange [0:*]\nset xtics 0.5\nset mxtics 5\n";
  // key: 0 none, 1 inside (single plot), 2 one row above the panels (multiplot).
  auto panel = [&](int q, int key, const std::string& title) {
    s << "set title " << gnuplotQuote(title) << "\n";
    s << "set xlabel '(reco − true) / true'\nset ylabel 'probability density'\n";
    s << "unset arrow\nset arrow from 0, graph 0 to 0, graph 1 nohead dt 3 lc rgb '#888888'\n";
    if (key == 1)
      s << "set key top right box opaque samplen 2 font ',10'\n";
    else
      s << "unset key\n";
    s << "plot ";
    for (std::size_t m = 0; m < nM; ++m) {
      const std::size_t col = 2 + q * nM + m;
      s << (m ? ", " : "") << "'data/" << dat << "' u 1:" << col << " w histeps lw 2 lc rgb '"
        << plotColour(m) << "' t " << gnuplotQuote(methodLabel(r.methods[m])) << " noenhanced";
    }
    s << "\n";
  };
  const std::string where =
      fmt::format("{}, {} events", r.groups.empty() ? "" : r.groups[0].label, r.rows.size());
  if (mass) {
    panel(kMassIndex, 1, "Relative residual of m_{ττ} — " + where);
  } else {
    f.widthPx = 1800;
    f.heightPx = 850;
    // Manual layout: a full-width legend row under the title, then 2 x 4 panels.
    s << "set multiplot title "
      << gnuplotQuote("Relative residuals of the reconstructed τ momenta — " + where)
      << " font ',15'\n";
    static const char* names[] = {"p_x(τ^+)", "p_y(τ^+)", "p_z(τ^+)", "E(τ^+)",
                                  "p_x(τ^-)", "p_y(τ^-)", "p_z(τ^-)", "E(τ^-)"};
    for (int q = 0; q < kNumTauComponents; ++q) {
      s << fmt::format("set origin {},{}\nset size 0.25,0.43\n", 0.25 * (q % 4),
                       q < 4 ? 0.47 : 0.02);
      panel(q, 0, names[q]);
    }
    s << "set origin 0,0.89\nset size 1,0.06\nunset border\nunset tics\nunset xlabel\n"
         "unset ylabel\nunset title\nunset arrow\nunset grid\nset xrange [0:1]\n"
         "set yrange [0:1]\nset key center center horizontal samplen 3 font ',12' width 3\nplot ";
    for (std::size_t m = 0; m < nM; ++m)
      s << (m ? ", " : "") << "2 w l lw 2 lc rgb '" << plotColour(m) << "' t "
        << gnuplotQuote(methodLabel(r.methods[m])) << " noenhanced";
    s << "\n";
    s << "unset multiplot\n";
  }
  f.body = s.str();
  return f;
}

// Range covering the central part of the truth distribution of quantity q.
std::pair<double, double> truthRange(const EvaluationResult& r, int q, double lowerQ, double upperQ,
                                     double pad) {
  std::vector<double> v;
  for (const auto& t : r.truth)
    if (std::isfinite(t[q])) v.push_back(t[q]);
  if (v.empty()) return {0, 1};
  std::sort(v.begin(), v.end());
  double lo = quantileSorted(v, lowerQ), hi = quantileSorted(v, upperQ);
  if (!(hi > lo)) hi = lo + 1;
  const double span = hi - lo;
  return {lo - pad * span, hi + pad * span};
}

// Quantiles of the reconstructed quantity q of method m (successful events); NaN if none.
std::pair<double, double> recoQuantiles(const EvaluationResult& r, std::size_t m, int q,
                                        double lowerQ, double upperQ) {
  std::vector<double> v;
  for (std::size_t s = 0; s < r.rows.size(); ++s)
    if (r.values[m].ok[s] && std::isfinite(r.values[m].reco[s][q]))
      v.push_back(r.values[m].reco[s][q]);
  if (v.empty()) return {std::nan(""), std::nan("")};
  std::sort(v.begin(), v.end());
  return {quantileSorted(v, lowerQ), quantileSorted(v, upperQ)};
}

Figure massFigure(const EvaluationResult& r) {
  const std::size_t nM = r.methods.size();
  // From 0 to where the truth and the bulk (90 %) of every method end, at most 3 x the median
  // true mass (failed or wild reconstructions must not squeeze the peak).
  const auto [mLo, mHi] = truthRange(r, kMassIndex, 0.5, 0.99, 0.0);
  double lo = 0, hi = 1.3 * mHi;
  for (std::size_t m = 0; m < nM; ++m) {
    const double q90 = recoQuantiles(r, m, kMassIndex, 0.0, 0.9).second;
    if (std::isfinite(q90)) hi = std::max(hi, q90);
  }
  hi = std::min(hi, 3 * mLo);
  hi = std::max(std::ceil(hi / 10) * 10, 10.0);
  constexpr int kBins = 80;
  const double w = (hi - lo) / kBins;
  std::vector<std::vector<double>> cols(nM + 1, std::vector<double>(kBins, 0.0));
  auto fill = [&](std::vector<double>& h, double v) {
    const int b = static_cast<int>(std::floor((v - lo) / w));
    if (std::isfinite(v) && b >= 0 && b < kBins) h[b] += 1;
  };
  for (std::size_t s = 0; s < r.rows.size(); ++s) {
    fill(cols[0], r.truth[s][kMassIndex]);
    for (std::size_t m = 0; m < nM; ++m)
      if (r.values[m].ok[s]) fill(cols[m + 1], r.values[m].reco[s][kMassIndex]);
  }
  std::string data = "# m_tautau bin centre [GeV], events: truth, then per method\n";
  for (int b = 0; b < kBins; ++b) {
    std::vector<double> row;
    for (const auto& c : cols) row.push_back(c[b]);
    data += histogramRow(lo + (b + 0.5) * w, row);
  }
  Figure f;
  f.name = "mtautau";
  f.dataFiles = {{"mtautau.dat", data}};
  std::ostringstream s;
  s << "set title "
    << gnuplotQuote(fmt::format("Di-τ mass: truth and reconstructed — {}, {} events",
                                r.groups.empty() ? "" : r.groups[0].label, r.rows.size()))
    << "\n";
  s << "set xlabel 'm_{ττ} [GeV]'\nset ylabel "
    << gnuplotQuote(fmt::format("events / {:.3g} GeV", w))
    << "\nset grid lc rgb '#dddddd'\nset key top right box opaque\n";
  s << fmt::format("set xrange [{}:{}]\nset yrange [0:*]\nset style fill solid 0.35 noborder\n", lo,
                   hi);
  s << fmt::format("plot 'data/mtautau.dat' u 1:2:({}) w boxes lc rgb '#999999' t 'truth'", w);
  for (std::size_t m = 0; m < nM; ++m)
    s << ", 'data/mtautau.dat' u 1:" << m + 3 << " w histeps lw 2 lc rgb '" << plotColour(m)
      << "' t " << gnuplotQuote(methodLabel(r.methods[m])) << " noenhanced";
  s << "\n";
  f.body = s.str();
  return f;
}

// 2-D histograms truth vs reconstructed for m_tautau and E(tau+), one figure per method.
Figure truthVsRecoFigure(const EvaluationResult& r, std::size_t m) {
  Figure f;
  f.name = "truth_vs_reco_" + r.methods[m];
  f.widthPx = 1500;
  f.heightPx = 680;
  std::ostringstream s;
  s << "set multiplot layout 1,2 title "
    << gnuplotQuote(fmt::format("Reconstructed vs true — {} ({}, {} events)",
                                methodLabel(r.methods[m]),
                                r.groups.empty() ? "" : r.groups[0].label, r.rows.size()))
    << " noenhanced font ',14'\n";
  s << "set view map\nset size ratio -1\nset logscale cb\nset cblabel 'events'\n"
       "set palette defined (0 '#f7fbff', 1 '#6baed6', 2 '#08519c', 3 '#08306b')\n"
       "unset key\nset grid front lc rgb '#cccccc'\n";
  constexpr int kBins = 60;
  for (int q : {kMassIndex, 3}) {
    // Square axes covering the central truth and the central 96 % of the reconstruction.
    auto [lo, hi] = truthRange(r, q, 0.005, 0.995, 0.0);
    const auto [rLo, rHi] = recoQuantiles(r, m, q, 0.02, 0.98);
    if (std::isfinite(rLo)) {
      lo = std::min(lo, rLo);
      hi = std::max(hi, rHi);
    }
    const double pad = 0.05 * (hi - lo);
    lo -= pad;
    hi += pad;
    if (q == kMassIndex || q == 3) lo = std::max(lo, 0.0);
    const double w = (hi - lo) / kBins;
    std::vector<double> h(kBins * kBins, 0.0);
    for (std::size_t e = 0; e < r.rows.size(); ++e) {
      if (!r.values[m].ok[e]) continue;
      const double x = r.truth[e][q], y = r.values[m].reco[e][q];
      const int bx = static_cast<int>(std::floor((x - lo) / w));
      const int by = static_cast<int>(std::floor((y - lo) / w));
      if (bx >= 0 && bx < kBins && by >= 0 && by < kBins) h[bx * kBins + by] += 1;
    }
    std::string data = "# true, reconstructed (bin centres) [GeV], events (NaN = empty)\n";
    for (int bx = 0; bx < kBins; ++bx) {
      for (int by = 0; by < kBins; ++by) {
        const double c = h[bx * kBins + by];
        data += fmt::format("{:.6g} {:.6g} {}\n", lo + (bx + 0.5) * w, lo + (by + 0.5) * w,
                            c > 0 ? fmt::format("{}", c) : std::string("NaN"));
      }
      data += "\n";
    }
    const std::string file = fmt::format("{}_{}.dat", f.name, quantityKey(q));
    f.dataFiles.emplace_back(file, data);
    const std::string label = quantityUnitLabel(q);
    s << "set title " << gnuplotQuote(label) << "\n";
    s << "set xlabel " << gnuplotQuote("true " + label) << "\nset ylabel "
      << gnuplotQuote("reconstructed " + label) << "\n";
    s << fmt::format("set xrange [{0}:{1}]\nset yrange [{0}:{1}]\n", lo, hi);
    s << "plot 'data/" << file << "' u 1:2:3 w image, x w l lc rgb '#D55E00' dt 2 lw 1.5\n";
  }
  s << "unset multiplot\n";
  f.body = s.str();
  return f;
}

// The K candidates of a few events, per neutrino component, with the truth and point estimates.
Figure candidateFigure(const EvaluationResult& r) {
  Figure f;
  f.name = "candidates_" + r.examplesMethod;
  const std::size_t n = r.examples.size();
  const std::size_t rows = (n + 1) / 2;
  f.widthPx = 1500;
  f.heightPx = static_cast<int>(420 * rows + 60);
  std::ostringstream s;
  s << "set multiplot layout " << rows << ",2 title "
    << gnuplotQuote(fmt::format("Spread of the {} neutrino candidates (K = {}) in example events",
                                r.examplesMethod,
                                r.examples.empty() ? 0 : r.examples[0].candidates.size()))
    << " noenhanced font ',14'\n";
  s << "set xrange [0.5:6.5]\nset xtics ('ν^+ p_x' 1, 'ν^+ p_y' 2, 'ν^+ p_z' 3, 'ν^- p_x' 4, "
       "'ν^- p_y' 5, 'ν^- p_z' 6)\nset ylabel 'momentum [GeV]'\nset grid ytics lc rgb '#dddddd'\n"
       "set key outside right top font ',9' samplen 1\n";
  for (std::size_t e = 0; e < n; ++e) {
    const auto& ex = r.examples[e];
    const std::size_t k = ex.candidates.size();
    std::string cand = "# component (jittered), candidate value [GeV]\n";
    for (std::size_t j = 0; j < k; ++j)
      for (int c = 0; c < 6; ++c) {
        const double jitter = k > 1 ? (static_cast<double>(j) / (k - 1) - 0.5) * 0.3 : 0.0;
        cand += fmt::format("{:.4f} {:.6g}\n", c + 1 + jitter, ex.candidates[j][c]);
      }
    std::string truth = "# component, true value [GeV]\n";
    for (int c = 0; c < 6; ++c) truth += fmt::format("{} {:.6g}\n", c + 1, ex.truth[c]);
    std::string est = "# component, one column per method estimate [GeV]\n";
    for (int c = 0; c < 6; ++c) {
      std::vector<double> row;
      for (const auto& [name, v] : ex.estimates) row.push_back(v[c]);
      est += histogramRow(c + 1, row);
    }
    const std::string base = fmt::format("{}_event{}", f.name, ex.row);
    f.dataFiles.emplace_back(base + "_candidates.dat", cand);
    f.dataFiles.emplace_back(base + "_truth.dat", truth);
    f.dataFiles.emplace_back(base + "_estimates.dat", est);
    s << "set title " << gnuplotQuote(fmt::format("event {} ({})", ex.row, ex.channel)) << "\n";
    s << "plot 'data/" << base
      << "_candidates.dat' u 1:2 w p pt 7 ps 0.6 lc rgb '#888888' t 'candidates'";
    for (std::size_t m = 0; m < ex.estimates.size(); ++m) {
      const std::size_t mi = static_cast<std::size_t>(
          std::find(r.methods.begin(), r.methods.end(), ex.estimates[m].first) - r.methods.begin());
      s << ", 'data/" << base << "_estimates.dat' u ($1+0.22):" << m + 2
        << " w p pt 9 ps 1.4 lc rgb '" << plotColour(mi) << "' t "
        << gnuplotQuote(ex.estimates[m].first) << " noenhanced";
    }
    s << ", 'data/" << base
      << "_truth.dat' u 1:2 w p pt 3 ps 2.2 lw 2 lc rgb '#000000' t 'truth'\n";
  }
  s << "unset multiplot\n";
  f.body = s.str();
  return f;
}

Figure calibrationFigure(const CalibrationResult& cal) {
  Figure f;
  f.name = "calibration_" + cal.method;
  f.widthPx = 1500;
  f.heightPx = 800;
  std::ostringstream s;
  s << "set multiplot layout 2,3 title "
    << gnuplotQuote(fmt::format("Rank histograms of the true neutrino momentum among the {} {} "
                                "candidates (flat = calibrated)",
                                cal.k, cal.method))
    << " noenhanced font ',14'\n";
  s << "set style fill solid 0.6 noborder\nset boxwidth 0.8\nset grid ytics lc rgb '#dddddd'\n"
       "set xlabel 'rank of the truth (candidates below it)'\nset ylabel 'fraction of events'\n"
       "unset key\n";
  double top = 1.5 / (cal.k + 1.0);  // common y range so the panels compare at a glance
  for (const auto& cc : cal.components)
    for (std::size_t rank : cc.ranks)
      if (cc.events) top = std::max(top, 1.1 * static_cast<double>(rank) / cc.events);
  s << fmt::format("set xrange [-0.7:{}]\nset yrange [0:{:.4g}]\n", cal.k + 0.7, top);
  static const char* titles[] = {"ν^+ p_x", "ν^+ p_y", "ν^+ p_z", "ν^- p_x", "ν^- p_y", "ν^- p_z"};
  for (int c = 0; c < 6; ++c) {
    const auto& cc = cal.components[c];
    std::string data = "# rank, fraction of events\n";
    for (std::size_t i = 0; i < cc.ranks.size(); ++i)
      data += fmt::format("{} {:.6g}\n", i,
                          cc.events ? static_cast<double>(cc.ranks[i]) / cc.events : 0.0);
    const std::string file = fmt::format("{}_{}.dat", f.name, neutrinoComponentKey(c));
    f.dataFiles.emplace_back(file, data);
    s << "set title "
      << gnuplotQuote(fmt::format("{}  (coverage min–max {:.3f}, expected {:.3f})", titles[c],
                                  cc.coverageOuter, (cal.k - 1.0) / (cal.k + 1.0)))
      << "\n";
    s << "plot 'data/" << file << "' u 1:2 w boxes lc rgb '#0072B2', "
      << fmt::format("{} w l lc rgb '#D55E00' dt 2 lw 2", 1.0 / (cal.k + 1)) << "\n";
  }
  s << "unset multiplot\n";
  f.body = s.str();
  return f;
}

// Median reconstructed vs median true m_ττ per true-mass bin, with the 16-84 % band of the
// reconstructed mass, for every method with neutrinos; the diagonal is a reconstruction that
// follows the event.
Figure massVsTrueFigure(const EvaluationResult& r) {
  std::vector<std::size_t> shown;
  for (std::size_t m = 0; m < r.methods.size(); ++m)
    if (r.methods[m] != kVisibleMethod) shown.push_back(m);
  std::string data = "# median true m [GeV], then per method: q16, median, q84 of reco m [GeV]\n";
  const auto field = [](double v) { return std::isfinite(v) ? fmt::format(" {:.6g}", v) : " ?"; };
  double lo = 1e300, hi = 0;
  for (const auto& bin : r.byTrueMass) {
    data += fmt::format("{:.6g}", bin.trueMassMedian);
    lo = std::min(lo, bin.lowGeV);
    hi = std::max(hi, bin.highGeV);
    for (std::size_t m : shown) {
      const auto& mb = bin.methods[m];
      data += field(mb.recoMassQ16) + field(mb.recoMassMedian) + field(mb.recoMassQ84);
    }
    data += "\n";
  }
  Figure f;
  f.name = "mtautau_vs_true";
  f.dataFiles = {{"mtautau_vs_true.dat", data}};
  std::ostringstream s;
  s << "set title " << gnuplotQuote("Reconstructed vs true m_{ττ}: median and 16–84 % band")
    << "\nset xlabel 'true m_{ττ} [GeV]'\nset ylabel 'reconstructed m_{ττ} [GeV]'\n"
    << "set grid lc rgb '#dddddd'\nset key top left box opaque\nset datafile missing '?'\n"
    << fmt::format("set xrange [{}:{}]\nset yrange [{}:{}]\n", lo, hi, 0.8 * lo, 1.2 * hi)
    << "set style fill transparent solid 0.18 noborder\nplot ";
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const std::size_t c = 2 + 3 * i;  // q16 column
    s << fmt::format("'data/mtautau_vs_true.dat' u 1:{}:{} w filledcurves lc rgb '{}' notitle, ", c,
                     c + 2, plotColour(shown[i]));
    s << fmt::format(
        "'data/mtautau_vs_true.dat' u 1:{} w lp pt 7 lw 2 lc rgb '{}' t {} noenhanced, ", c + 1,
        plotColour(shown[i]), gnuplotQuote(methodLabel(r.methods[shown[i]])));
  }
  s << "x w l dt 2 lc rgb '#000000' t 'reco = true'\n";
  f.body = s.str();
  return f;
}

std::vector<Figure> allFigures(const EvaluationResult& r) {
  std::vector<Figure> out;
  if (r.rows.empty()) return out;
  out.push_back(residualFigure(r, false));
  out.push_back(residualFigure(r, true));
  out.push_back(massFigure(r));
  if (!r.byTrueMass.empty()) out.push_back(massVsTrueFigure(r));
  for (std::size_t m = 0; m < r.methods.size(); ++m) out.push_back(truthVsRecoFigure(r, m));
  if (!r.examples.empty()) out.push_back(candidateFigure(r));
  for (const auto& cal : r.calibration) out.push_back(calibrationFigure(cal));
  return out;
}

// ---------------------------------------------------------------- JSON

json distancesJson(const DistributionDistances& d) {
  return {{"w1", jnum(d.wasserstein1)}, {"energy", jnum(d.energy)}, {"ks", jnum(d.ks)},
          {"kl64", jnum(d.kl64)},       {"kl128", jnum(d.kl128)},   {"kl256", jnum(d.kl256)}};
}

json resolutionJson(const ResolutionSummary& s) {
  return {{"entries", s.entries},
          {"hwhm", jnum(s.hwhm)},
          {"hwhm_error", jnum(s.hwhmError)},
          {"mode", jnum(s.mode)},
          {"median_bias", jnum(s.medianBias)},
          {"median_bias_error", jnum(s.medianBiasError)}};
}

json toJson(const EvaluationResult& r) {
  json j;
  j["schema"] = "nurec-evaluate";
  j["schema_version"] = 1;
  j["producer"] = std::string(kProducer);
  j["source"] = r.config.source;
  j["selection"] = selectionName(r.config.selection);
  j["events_in_file"] = r.eventsInFile;
  j["events_selected"] = r.rows.size();
  j["methods"] = r.methods;
  j["hwhm_config"] = {{"bandwidth_factor", r.config.hwhm.bandwidthFactor},
                      {"bins_per_bandwidth", r.config.hwhm.binsPerBandwidth},
                      {"range_in_robust_sigma", r.config.hwhm.rangeInRobustSigma},
                      {"min_entries", r.config.hwhm.minEntries},
                      {"bootstrap_samples", r.config.hwhm.bootstrapSamples},
                      {"seed", r.config.hwhm.seed}};
  json groups = json::array();
  for (std::size_t gi = 0; gi < r.groups.size(); ++gi) {
    const auto& g = r.groups[gi];
    json jg;
    jg["key"] = g.key;
    jg["label"] = g.label;
    jg["events"] = g.events;
    json methods = json::object();
    for (const auto& mr : g.methods) {
      json jm;
      jm["events"] = mr.events;
      jm["failed"] = mr.failed;
      jm["failed_fraction"] = jnum(mr.failedFraction());
      jm["mean_tau_hwhm"] = jnum(mr.meanTauHwhm);
      json quantities = json::object();
      for (int q = 0; q < kNumQuantities; ++q) {
        json jq = resolutionJson(mr.quantities[q].resolution);
        jq.update(distancesJson(mr.quantities[q].distances));
        quantities[quantityKey(q)] = jq;
      }
      jm["quantities"] = quantities;
      jm["distances_tau_sum"] = distancesJson(mr.tauSum);
      methods[mr.method] = jm;
    }
    jg["methods"] = methods;
    json masses = json::object();
    for (const auto& me : r.massEstimators) {
      json jme = resolutionJson(me.perGroup[gi]);
      jme["failed"] = me.failedPerGroup[gi];
      masses[me.method] = jme;
    }
    if (!masses.empty()) jg["mass_estimators"] = masses;
    groups.push_back(jg);
  }
  j["groups"] = groups;
  json cal = json::object();
  for (const auto& c : r.calibration) {
    json jc;
    jc["k"] = c.k;
    json comps = json::object();
    for (int i = 0; i < 6; ++i) {
      const auto& cc = c.components[i];
      comps[neutrinoComponentKey(i)] = {{"events", cc.events},
                                        {"ranks", cc.ranks},
                                        {"coverage_outer", jnum(cc.coverageOuter)},
                                        {"coverage_inner", jnum(cc.coverageInner)},
                                        {"crps", jnum(cc.crps)},
                                        {"spread", jnum(cc.spread)}};
    }
    jc["components"] = comps;
    jc["coverage_outer_expected"] = (c.k - 1.0) / (c.k + 1.0);
    jc["coverage_inner_expected"] = c.k >= 4 ? json((c.k - 3.0) / (c.k + 1.0)) : json(nullptr);
    cal[c.method] = jc;
  }
  j["calibration"] = cal;
  // The methods of one subset of the events (a true-mass bin or a decay class).
  const auto subsetMethods = [&](const std::vector<SubsetMethodResult>& methods) {
    json jm;
    for (std::size_t m = 0; m < r.methods.size(); ++m) {
      const auto& mb = methods[m];
      jm[r.methods[m]] = {{"events", mb.events},
                          {"mtautau", resolutionJson(mb.mass)},
                          {"mean_tau_hwhm", jnum(mb.meanTauHwhm)},
                          {"reco_mtautau_q16", jnum(mb.recoMassQ16)},
                          {"reco_mtautau_median", jnum(mb.recoMassMedian)},
                          {"reco_mtautau_q84", jnum(mb.recoMassQ84)},
                          {"coverage68", jnum(mb.massCoverage68)},
                          {"calibrated_coverage68", jnum(mb.calibratedCoverage68)},
                          {"coverage_events", mb.coverageEvents}};
    }
    return jm;
  };
  json bins = json::array();
  for (const auto& bin : r.byTrueMass)
    bins.push_back({{"true_mtautau_low", bin.lowGeV},
                    {"true_mtautau_high", bin.highGeV},
                    {"events", bin.events},
                    {"true_mtautau_median", jnum(bin.trueMassMedian)},
                    {"methods", subsetMethods(bin.methods)}});
  j["by_true_mass"] = bins;
  json classes = json::array();
  for (const auto& c : r.byTrueDecays)
    classes.push_back(
        {{"class", c.key}, {"events", c.events}, {"methods", subsetMethods(c.methods)}});
  j["by_true_decays"] = classes;
  j["notes"] = r.notes;
  return j;
}

}  // namespace

std::string summaryMarkdown(const EvaluationResult& r) {
  if (r.groups.empty()) return "No events selected.\n";
  const GroupResult& g = r.groups[0];
  std::string out =
      "| method | failed | mean HWHM of τ px, py, pz, E | HWHM m_ττ | median bias m_ττ | Σ W1 "
      "[GeV] | "
      "Σ KS | Σ KL (128 bins) |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& mr : g.methods) {
    const auto& m = mr.quantities[kMassIndex].resolution;
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", methodLabel(mr.method),
                       percent(mr.failedFraction()), num(mr.meanTauHwhm), pm(m.hwhm, m.hwhmError),
                       pm(m.medianBias, m.medianBiasError), num(mr.tauSum.wasserstein1, 2),
                       num(mr.tauSum.ks), num(mr.tauSum.kl128));
  }
  return out;
}

std::string channelMarkdown(const EvaluationResult& r) {
  std::string out;
  auto table = [&](const std::string& title, auto value) {
    out += "**" + title + "**\n\n| channel | events |";
    std::string rule = "|---|---|";
    for (const auto& m : r.methods) {
      cell(out, methodLabel(m));
      rule += "---|";
    }
    out += "\n" + rule + "\n";
    for (const auto& g : r.groups) {
      out += fmt::format("| {} | {} |", g.label, g.events);
      for (const auto& mr : g.methods) cell(out, value(mr));
      out += "\n";
    }
    out += "\n";
  };
  table("Mean HWHM of the τ momentum components (px, py, pz, E of τ⁺ and τ⁻)",
        [](const MethodResult& m) { return num(m.meanTauHwhm); });
  table("HWHM of m_ττ", [](const MethodResult& m) {
    return pm(m.quantities[kMassIndex].resolution.hwhm,
              m.quantities[kMassIndex].resolution.hwhmError);
  });
  table("Median bias of m_ττ", [](const MethodResult& m) {
    return pm(m.quantities[kMassIndex].resolution.medianBias,
              m.quantities[kMassIndex].resolution.medianBiasError);
  });
  table("Failed events", [](const MethodResult& m) { return percent(m.failedFraction()); });
  return out;
}

std::vector<std::pair<std::string, std::string>> reportFigures(const EvaluationResult& r) {
  std::vector<std::pair<std::string, std::string>> out;
  if (r.rows.empty()) return out;
  out.emplace_back("residuals_tau",
                   "Relative residuals of the τ⁺ and τ⁻ momentum components, all methods.");
  out.emplace_back("residuals_mtautau", "Relative residual of the di-τ mass.");
  out.emplace_back("mtautau", "Di-τ mass: truth (grey) and each method.");
  if (!r.byTrueMass.empty())
    out.emplace_back("mtautau_vs_true",
                     "Median reconstructed m_ττ per bin of the true m_ττ, with the 16–84 % band; "
                     "the dashed diagonal is a reconstruction that follows the event.");
  for (const auto& m : r.methods)
    out.emplace_back("truth_vs_reco_" + m,
                     "Reconstructed vs true m_ττ and E(τ⁺): " + methodLabel(m) + ".");
  if (!r.examples.empty())
    out.emplace_back("candidates_" + r.examplesMethod,
                     "Spread of the " + r.examplesMethod +
                         " candidates in example events (grey), truth (black cross) and the point "
                         "estimates of the methods.");
  for (const auto& c : r.calibration)
    out.emplace_back("calibration_" + c.method,
                     "Rank histograms of the truth among the " + c.method + " candidates.");
  return out;
}

std::string terminalSummary(const EvaluationResult& r) {
  std::string out;
  if (r.groups.empty()) return "no events selected\n";
  out += fmt::format("{:<12} {:>8} {:>12} {:>12} {:>12}\n", "method", "failed", "<HWHM tau>",
                     "HWHM m_tt", "bias m_tt");
  for (const auto& mr : r.groups[0].methods) {
    const auto& m = mr.quantities[kMassIndex].resolution;
    out +=
        fmt::format("{:<12} {:>8} {:>12} {:>12} {:>12}\n", mr.method, percent(mr.failedFraction()),
                    num(mr.meanTauHwhm), num(m.hwhm), num(m.medianBias));
  }
  return out;
}

void writeReport(const EvaluationResult& r, const std::string& outDir) {
  // All or nothing: a full disk half-way leaves no partial report (docs/reliability.md).
  StagedDirectory stage(outDir);
  const fs::path dir(stage.path());
  std::vector<std::string> notes = r.notes;
  bool plotsDone = false;
  if (r.config.plots && !r.rows.empty()) {
    for (const Figure& f : allFigures(r)) renderFigure(dir.string(), f);
    plotsDone = true;
  } else if (!r.config.plots) {
    notes.push_back("Plots were not requested (--no-plots).");
  }

  std::ostringstream md;
  md << "# " << r.config.title << "\n\n";
  md << fmt::format(
      "Input: `{}` · selection: {} · {} of {} events selected · methods: {} · "
      "{}\n\n",
      r.config.source.empty() ? "(in memory)" : r.config.source, selectionName(r.config.selection),
      r.rows.size(), r.eventsInFile, fmt::join(r.methods, ", "), kProducer);
  md << "Residuals are relative, (reco − true)/true, of the τ four-momenta (visible τ + the "
        "method's neutrinos) and of m_ττ. HWHM = half width at half maximum of the residual "
        "distribution; errors are bootstrap standard deviations. All definitions (peak finding, "
        "binning, empty bins, uncertainties): docs/metrics.md of the nurec repository. Machine-"
        "readable numbers: [metrics.json](metrics.json) (keys in docs/evaluate.md).\n\n";
  for (const auto& n : notes) md << "> **Note.** " << n << "\n\n";
  md << "## Summary (" << (r.groups.empty() ? "" : r.groups[0].label) << ")\n\n"
     << summaryMarkdown(r) << "\n";
  if (!r.byTrueMass.empty())
    md << "## By true m_ττ: does the reconstruction follow the event?\n\n"
       << trueMassMarkdown(r) << "\n"
       << (plotsDone ? "![median reco vs true m_ττ](mtautau_vs_true.png)\n\n" : "");
  if (!r.byTrueDecays.empty())
    md << "## By true τ decay modes\n\n" << trueDecaysMarkdown(r) << "\n";
  if (!r.groups.empty()) {
    const GroupResult& g = r.groups[0];
    md << "## Resolution: HWHM of the relative residuals (" << g.label << ")\n\n"
       << resolutionTable(g, false) << "\n";
    md << "## Median bias of the relative residuals (" << g.label << ")\n\n"
       << resolutionTable(g, true) << "\n";
    md << "## Per channel\n\n" << channelMarkdown(r);
    md << "Full per-channel tables (every component; distances per channel are in "
          "metrics.json):\n\n";
    for (std::size_t gi = 1; gi < r.groups.size(); ++gi) {
      const GroupResult& ch = r.groups[gi];
      md << fmt::format(
          "<details><summary>{} ({} events): HWHM and median bias per "
          "component</summary>\n\n",
          ch.label, ch.events);
      md << "HWHM\n\n"
         << resolutionTable(ch, false) << "\nMedian bias\n\n"
         << resolutionTable(ch, true) << "\n</details>\n\n";
    }
    md << "## Distances between the reconstructed and the true distributions (" << g.label
       << ")\n\nSame events for both (those the method did not fail on). W1 and energy distance "
          "in GeV; KS and KL dimensionless (KL(truth ‖ reco) in nats).\n\n";
    md << "**1-D Wasserstein distance W1 [GeV]**\n\n"
       << distanceTable(g, &DistributionDistances::wasserstein1, 2) << "\n";
    md << "**Energy distance [GeV^½]**\n\n"
       << distanceTable(g, &DistributionDistances::energy, 3) << "\n";
    md << "**Kolmogorov–Smirnov statistic**\n\n"
       << distanceTable(g, &DistributionDistances::ks, 3) << "\n";
    md << "**KL divergence, 64 bins**\n\n"
       << distanceTable(g, &DistributionDistances::kl64, 4) << "\n";
    md << "**KL divergence, 128 bins**\n\n"
       << distanceTable(g, &DistributionDistances::kl128, 4) << "\n";
    md << "**KL divergence, 256 bins**\n\n"
       << distanceTable(g, &DistributionDistances::kl256, 4) << "\n";
  }
  if (!r.massEstimators.empty()) {
    md << "## Dedicated di-τ mass estimators (/nu/<method>/mtautau)\n\nThe tables above compute "
          "m_ττ from each method's neutrino four-vectors; some methods also store their own mass "
          "estimate, evaluated here.\n\n| method | group | events used | HWHM m_ττ | median bias "
          "|\n|---|---|---|---|---|\n";
    for (const auto& me : r.massEstimators)
      for (std::size_t g = 0; g < r.groups.size(); ++g)
        md << fmt::format("| {} | {} | {} | {} | {} |\n", me.method, r.groups[g].label,
                          me.perGroup[g].entries, pm(me.perGroup[g].hwhm, me.perGroup[g].hwhmError),
                          pm(me.perGroup[g].medianBias, me.perGroup[g].medianBiasError));
    md << "\n";
  }
  for (const auto& c : r.calibration) {
    md << fmt::format(
        "## Calibration of the {} candidates (K = {}, docs/ml-methods.md section 7)\n\n", c.method,
        c.k);
    md << fmt::format(
        "Calibrated candidates give coverage {:.3f} for (min, max) and {} for "
        "(x₍₂₎, x₍K−1₎), and a flat rank histogram. CRPS in GeV (lower is better); spread = "
        "half the mean distance of two candidates, the posterior's width in GeV (CRPS = mean "
        "distance of the candidates to the truth − spread).\n\n",
        (c.k - 1.0) / (c.k + 1.0),
        c.k >= 4 ? fmt::format("{:.3f}", (c.k - 3.0) / (c.k + 1.0)) : "—");
    md << "| component | events | coverage (min, max) | coverage (x₍₂₎, x₍K−1₎) | rank 0 | rank K "
          "| CRPS [GeV] | spread [GeV] |\n|---|---|---|---|---|---|---|---|\n";
    for (int i = 0; i < 6; ++i) {
      const auto& cc = c.components[i];
      const double n = static_cast<double>(cc.events);
      md << fmt::format(
          "| {} | {} | {} | {} | {} | {} | {} | {} |\n", neutrinoComponentLabel(i), cc.events,
          num(cc.coverageOuter), num(cc.coverageInner), cc.events ? num(cc.ranks.front() / n) : "—",
          cc.events ? num(cc.ranks.back() / n) : "—", num(cc.crps, 2), num(cc.spread, 2));
    }
    md << fmt::format("\nExpected fraction per rank if calibrated: {:.3f}.\n\n", 1.0 / (c.k + 1));
  }
  if (plotsDone) {
    md << "## Plots\n\nEach plot exists as PNG and SVG; its data and gnuplot script are in "
          "[data/](data/).\n\n";
    for (const auto& [stem, caption] : reportFigures(r))
      md << fmt::format("### {}\n\n![{}]({}.png)\n\n[SVG]({}.svg)\n\n", caption, stem, stem, stem);
  }
  writeTextFileAtomically((dir / "README.md").string(), md.str());
  writeTextFileAtomically((dir / "metrics.json").string(), toJson(r).dump(2) + "\n");
  stage.commit();
}

void evaluateToReport(const io::EventTable& table, const EvaluateConfig& config,
                      const std::string& outDir) {
  writeReport(evaluate(table, config), outDir);
}

}  // namespace nurec::eval
