#pragma once
// A likelihood table built once per test binary from constructed truth events (all decay modes),
// so that the MMC tests do not depend on the shipped file's contents.
#include <memory>
#include <vector>

#include "nurec/reco/AngularPdf.hpp"
#include "nurec/reco/ConstructedEvents.hpp"

inline std::shared_ptr<const nurec::reco::AngularPdfTable> constructedPdfTable() {
  static const auto table = [] {
    nurec::reco::ConstructedEventsConfig c;
    c.channel = -2;
    c.bosonWidthGeV = nurec::constants::gammaZ;
    const auto events = nurec::reco::constructEvents(c, 40000, 99);
    std::vector<nurec::TruthEvent> truth;
    for (const auto& e : events) truth.push_back(e.truth);
    return std::make_shared<const nurec::reco::AngularPdfTable>(
        nurec::reco::AngularPdfTable::fromTruth(truth, nurec::reco::AngularPdfConfig{}));
  }();
  return table;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}
