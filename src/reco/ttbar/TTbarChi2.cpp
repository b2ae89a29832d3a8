#include "nurec/reco/ttbar/TTbarChi2.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "nurec/core/Error.hpp"

namespace nurec::reco::ttbar {

namespace {
using detector::ttbar::TTbarRecoEvent;
using detector::ttbar::TTbarSelection;
using generator::ttbar::Parton;

constexpr int idx(Parton p) {
  return static_cast<int>(p);
}

bool finiteVector(const FourVector& p) {
  return std::isfinite(p.px) && std::isfinite(p.py) && std::isfinite(p.pz) && std::isfinite(p.e);
}
}  // namespace

void TTbarChi2Config::validate() const {
  auto positive = [](double x) { return std::isfinite(x) && x > 0; };
  require(positive(wMassGeV) && positive(topMassGeV) && topMassGeV > wMassGeV,
          "ttbar chi2: need 0 < w_mass < top_mass");
  require(
      positive(hadronicWSigmaGeV) && positive(hadronicTopSigmaGeV) && positive(leptonicTopSigmaGeV),
      "ttbar chi2: the mass resolutions must be > 0 GeV");
  require(maxJets >= 4 && maxJets <= 10, "ttbar chi2: max_jets must be in [4, 10]");
}

std::string TTbarChi2Config::toYaml() const {
  std::string y;
  y += fmt::format("w_mass: {}\ntop_mass: {}\n", wMassGeV, topMassGeV);
  y += fmt::format("hadronic_w_sigma: {}\nhadronic_top_sigma: {}\nleptonic_top_sigma: {}\n",
                   hadronicWSigmaGeV, hadronicTopSigmaGeV, leptonicTopSigmaGeV);
  y += fmt::format("max_jets: {}\nboth_neutrino_roots: {}\nrequire_selection: {}\n", maxJets,
                   bothNeutrinoRoots, requireSelection);
  return y;
}

const char* statusName(TTbarRecoStatus s) {
  switch (s) {
    case TTbarRecoStatus::ok:
      return "ok";
    case TTbarRecoStatus::neutrinoRealPart:
      return "neutrino-real-part";
    case TTbarRecoStatus::notSelected:
      return "not-selected";
    case TTbarRecoStatus::noLepton:
      return "no-lepton";
    case TTbarRecoStatus::tooFewJets:
      return "too-few-jets";
    case TTbarRecoStatus::noValidAssignment:
      return "no-valid-assignment";
    case TTbarRecoStatus::invalidInput:
      return "invalid-input";
  }
  return "?";
}

std::array<double, kRecordSize> TTbarChi2Result::record() const {
  return generator::ttbar::partonRecord(partons);
}

TTbarChi2Reconstructor::TTbarChi2Reconstructor(const TTbarChi2Config& config) : config_(config) {
  config_.validate();
}

TTbarChi2Result TTbarChi2Reconstructor::reconstruct(const TTbarRecoEvent& ev) const {
  TTbarChi2Result out;
  const TTbarChi2Config& c = config_;
  bool finite = std::isfinite(ev.metX) && std::isfinite(ev.metY);
  for (const auto& j : ev.jets) finite = finite && finiteVector(j.p4);
  for (const auto& l : ev.leptons) finite = finite && finiteVector(l.p4) && l.p4.pt() > 0;
  if (!finite) return out;  // invalidInput
  if (c.requireSelection && ev.selection != TTbarSelection::selected) {
    out.status = TTbarRecoStatus::notSelected;
    return out;
  }
  if (ev.leptons.size() != 1) {
    out.status = TTbarRecoStatus::noLepton;
    return out;
  }
  if (ev.jets.size() < 4) {
    out.status = TTbarRecoStatus::tooFewJets;
    return out;
  }
  const auto& lepton = ev.leptons.front();
  const FourVector l = lepton.p4;
  const WNeutrinoSolution nu = solveWNeutrinoPz(l, ev.metX, ev.metY, c.wMassGeV);
  if (nu.status == WNeutrinoSolution::Status::invalid) return out;  // invalidInput
  const bool realPart = nu.status == WNeutrinoSolution::Status::realPart;
  const int nRoots = (c.bothNeutrinoRoots && !realPart) ? 2 : 1;
  const double roots[2] = {nu.chosenPz, nu.otherPz};
  FourVector neutrinos[2];
  for (int r = 0; r < nRoots; ++r) {
    const Vector3 p{ev.metX, ev.metY, roots[r]};
    neutrinos[r] = FourVector::fromMomentumMass(p, 0.0);
  }

  // b-tag requirement (docs/ttbar.md): with >= 2 tags among the considered jets both b
  // candidates must be tagged; with one tag, one of them; with none, no requirement.
  const int n = std::min<int>(static_cast<int>(ev.jets.size()), c.maxJets);
  int tags = 0;
  for (int i = 0; i < n; ++i) tags += ev.jets[i].bTagged;
  const int requiredTags = std::min(tags, 2);

  double best = std::numeric_limits<double>::infinity();
  int bestBh = -1, bestBl = -1, bestQ1 = -1, bestQ2 = -1, bestRoot = 0;
  for (int bh = 0; bh < n; ++bh)
    for (int bl = 0; bl < n; ++bl) {
      if (bl == bh) continue;
      if (ev.jets[bh].bTagged + ev.jets[bl].bTagged < requiredTags) continue;
      double chi2Lep = std::numeric_limits<double>::infinity();
      int root = 0;
      for (int r = 0; r < nRoots; ++r) {
        const double d =
            ((ev.jets[bl].p4 + l + neutrinos[r]).m() - c.topMassGeV) / c.leptonicTopSigmaGeV;
        if (d * d < chi2Lep) {
          chi2Lep = d * d;
          root = r;
        }
      }
      for (int q1 = 0; q1 < n; ++q1) {
        if (q1 == bh || q1 == bl) continue;
        for (int q2 = q1 + 1; q2 < n; ++q2) {
          if (q2 == bh || q2 == bl) continue;
          const FourVector w = ev.jets[q1].p4 + ev.jets[q2].p4;
          const double dw = (w.m() - c.wMassGeV) / c.hadronicWSigmaGeV;
          const double dt = ((w + ev.jets[bh].p4).m() - c.topMassGeV) / c.hadronicTopSigmaGeV;
          const double chi2 = dw * dw + dt * dt + chi2Lep;
          if (chi2 < best) {
            best = chi2;
            bestBh = bh;
            bestBl = bl;
            bestQ1 = q1;
            bestQ2 = q2;
            bestRoot = root;
          }
        }
      }
    }
  if (bestBh < 0) {
    out.status = TTbarRecoStatus::noValidAssignment;
    return out;
  }

  out.status = realPart ? TTbarRecoStatus::neutrinoRealPart : TTbarRecoStatus::ok;
  out.chi2 = best;
  out.bHadronicJet = bestBh;
  out.bLeptonicJet = bestBl;
  out.quarkJet = bestQ1;  // jets are pT-ordered: q1 < q2 is the harder jet
  out.antiquarkJet = bestQ2;
  out.leptonicTop = lepton.charge() > 0;
  out.neutrinoPz = roots[bestRoot];
  const FourVector nuP4 = neutrinos[bestRoot];
  const FourVector bHad = ev.jets[bestBh].p4, bLep = ev.jets[bestBl].p4;
  const FourVector q = ev.jets[bestQ1].p4, qbar = ev.jets[bestQ2].p4;
  const FourVector wLep = l + nuP4, wHad = q + qbar;
  auto& P = out.partons;
  P[idx(Parton::b)] = out.leptonicTop ? bLep : bHad;
  P[idx(Parton::bbar)] = out.leptonicTop ? bHad : bLep;
  P[idx(Parton::quark)] = q;
  P[idx(Parton::antiquark)] = qbar;
  P[idx(Parton::lepton)] = l;
  P[idx(Parton::neutrino)] = nuP4;
  P[idx(Parton::wPlus)] = out.leptonicTop ? wLep : wHad;
  P[idx(Parton::wMinus)] = out.leptonicTop ? wHad : wLep;
  P[idx(Parton::top)] = P[idx(Parton::b)] + P[idx(Parton::wPlus)];
  P[idx(Parton::antitop)] = P[idx(Parton::bbar)] + P[idx(Parton::wMinus)];
  P[idx(Parton::ttbar)] = P[idx(Parton::top)] + P[idx(Parton::antitop)];
  return out;
}

TruthAssignment truthAssignment(const TTbarRecoEvent& ev, bool leptonicTop, int maxJets) {
  TruthAssignment t;
  const int bLep = idx(leptonicTop ? Parton::b : Parton::bbar);
  const int bHad = idx(leptonicTop ? Parton::bbar : Parton::b);
  const int n = std::min<int>(static_cast<int>(ev.jets.size()), maxJets);
  for (int i = 0; i < n; ++i) {
    const int label = ev.jets[i].truthParton;
    if (label == bHad) t.bHadronicJet = i;
    if (label == bLep) t.bLeptonicJet = i;
    if (label == idx(Parton::quark)) t.quarkJet = i;
    if (label == idx(Parton::antiquark)) t.antiquarkJet = i;
  }
  return t;
}

bool assignmentCorrect(const TTbarChi2Result& r, const TruthAssignment& t) {
  if (!reconstructed(r.status) || !t.complete()) return false;
  const bool pair = (r.quarkJet == t.quarkJet && r.antiquarkJet == t.antiquarkJet) ||
                    (r.quarkJet == t.antiquarkJet && r.antiquarkJet == t.quarkJet);
  return r.bHadronicJet == t.bHadronicJet && r.bLeptonicJet == t.bLeptonicJet && pair;
}

}  // namespace nurec::reco::ttbar
