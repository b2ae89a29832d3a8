#include "nurec/generator/ttbar/TTbarTable.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "nurec/Version.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/io/EventFile.hpp"

namespace nurec::generator::ttbar {

void putTTbarTruth(io::EventTable& table, const std::vector<TTbarEvent>& events) {
  const std::size_t n = events.size();
  std::vector<double> partons, x, scale(n), spin;
  std::vector<std::int32_t> lepton(n), hadronic, initial, isrCount(n);
  std::vector<double> primordial;
  partons.reserve(n * kPartonCount * kPartonComponents);
  std::size_t widest = 1;  // at least one (zero) column: a dataset dimension is never empty
  for (const auto& e : events) widest = std::max(widest, e.isr.emissions.size());
  std::vector<double> emissions(n * widest * 3, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const TTbarEvent& e = events[i];
    const auto record = e.record();
    partons.insert(partons.end(), record.begin(), record.end());
    lepton[i] = e.leptonPdg;
    hadronic.insert(hadronic.end(), {e.quarkPdg, e.antiquarkPdg});
    initial.insert(initial.end(), {e.incomingPdgA, e.incomingPdgB});
    x.insert(x.end(), {e.x1, e.x2});
    scale[i] = e.scaleGeV;
    for (const auto& row : e.productionC) spin.insert(spin.end(), row.begin(), row.end());
    isrCount[i] = static_cast<std::int32_t>(e.isr.emissions.size());
    for (std::size_t k = 0; k < e.isr.emissions.size(); ++k) {
      double* o = &emissions[(i * widest + k) * 3];
      o[0] = e.isr.emissions[k].px;
      o[1] = e.isr.emissions[k].py;
      o[2] = e.isr.emissions[k].y;
    }
    primordial.insert(primordial.end(), {e.isr.primordialPx, e.isr.primordialPy});
  }
  table.set(ds::partons, {kPartonCount, kPartonComponents}, std::move(partons));
  table.set(ds::leptonPdg, {}, std::move(lepton));
  table.set(ds::hadronicPdg, {2}, std::move(hadronic));
  table.set(ds::initialPdg, {2}, std::move(initial));
  table.set(ds::initialX, {2}, std::move(x));
  table.set(ds::scale, {}, std::move(scale));
  table.set(ds::spinC, {3, 3}, std::move(spin));
  table.set(ds::isrEmissions, {widest, 3}, std::move(emissions));
  table.set(ds::isrCount, {}, std::move(isrCount));
  table.set(ds::isrPrimordialKt, {2}, std::move(primordial));
}

std::vector<TTbarEvent> getTTbarTruth(const io::EventTable& table) {
  const std::size_t n = table.nEvents();
  const auto partons = table.get<double>(ds::partons, {kPartonCount, kPartonComponents});
  const auto lepton = table.get<std::int32_t>(ds::leptonPdg, {});
  const auto hadronic = table.get<std::int32_t>(ds::hadronicPdg, {2});
  const auto initial = table.get<std::int32_t>(ds::initialPdg, {2});
  const auto x = table.get<double>(ds::initialX, {2});
  const auto scale = table.get<double>(ds::scale, {});
  const auto spin = table.get<double>(ds::spinC, {3, 3});
  const auto isrCount = table.get<std::int32_t>(ds::isrCount, {});
  const auto emissions = table.get<double>(ds::isrEmissions, {0, 3});
  const auto primordial = table.get<double>(ds::isrPrimordialKt, {2});
  const std::size_t widest = n > 0 ? emissions.size() / (3 * n) : 0;
  std::vector<TTbarEvent> events(n);
  for (std::size_t i = 0; i < n; ++i) {
    TTbarEvent& e = events[i];
    for (int p = 0; p < kPartonCount; ++p) {
      // (M, E, px, py, pz): the four-vector is (px, py, pz, E); M follows from it.
      const double* v = &partons[(i * kPartonCount + p) * kPartonComponents];
      e.partons[p] = FourVector(v[2], v[3], v[4], v[1]);
    }
    e.leptonPdg = lepton[i];
    if (std::abs(e.leptonPdg) != 11 && std::abs(e.leptonPdg) != 13)
      throw InputError(fmt::format("{}: {} of event {} is {}, expected +-11 or +-13",
                                   table.source(), ds::leptonPdg, table.firstRow() + i,
                                   e.leptonPdg));
    e.leptonicTop = e.leptonPdg < 0;  // l+ comes from the top
    e.quarkPdg = hadronic[2 * i];
    e.antiquarkPdg = hadronic[2 * i + 1];
    e.incomingPdgA = initial[2 * i];
    e.incomingPdgB = initial[2 * i + 1];
    e.initial = e.incomingPdgA == 21 ? InitialState::gluonGluon : InitialState::quarkAntiquark;
    e.x1 = x[2 * i];
    e.x2 = x[2 * i + 1];
    e.scaleGeV = scale[i];
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) e.productionC[a][b] = spin[i * 9 + a * 3 + b];
    if (isrCount[i] < 0 || static_cast<std::size_t>(isrCount[i]) > widest)
      throw InputError(fmt::format("{}: {} of event {} is {}, outside 0..{} (the width of {})",
                                   table.source(), ds::isrCount, table.firstRow() + i, isrCount[i],
                                   widest, ds::isrEmissions));
    for (int k = 0; k < isrCount[i]; ++k) {
      const double* v = &emissions[(i * widest + static_cast<std::size_t>(k)) * 3];
      e.isr.emissions.push_back({v[0], v[1], v[2]});
    }
    e.isr.primordialPx = primordial[2 * i];
    e.isr.primordialPy = primordial[2 * i + 1];
  }
  return events;
}

std::map<std::string, io::AttributeValue> ttbarFileAttributes(const TTbarConfig& config,
                                                              const TTbarSummary& s) {
  return {
      {io::kProcessAttribute, std::string(kProcessName)},
      {"seed", static_cast<std::int64_t>(config.seed)},
      {"sqrt_s", config.sqrtS},
      {"cross_section_pb", s.crossSectionPb},
      {"cross_section_err_pb", s.crossSectionErrPb},
      {"inclusive_cross_section_pb", s.inclusiveCrossSectionPb},
      {"branching_factor", s.branchingFactor},
      {"config", config.toYaml()},
      {"producer", std::string(kProducer)},
  };
}

}  // namespace nurec::generator::ttbar
