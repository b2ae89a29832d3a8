#include "nurec/detector/ttbar/TTbarRecoTable.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "nurec/core/Error.hpp"

namespace nurec::detector::ttbar {

namespace {
constexpr std::size_t kLeptonSlots = 2;
}

void putTTbarReco(io::EventTable& table, const std::vector<TTbarRecoEvent>& events, int maxJets) {
  const std::size_t n = events.size();
  const auto J = static_cast<std::size_t>(maxJets);
  std::vector<double> jets(n * J * 4, 0.0), leptons(n * kLeptonSlots * 4, 0.0), met(n * 2),
      sumEt(n);
  std::vector<std::uint8_t> btag(n * J, 0), pass(n), mask(n * kCloudSlots);
  std::vector<std::int8_t> parton(n * J, static_cast<std::int8_t>(kNoParton)), selection(n);
  std::vector<std::int32_t> nJets(n), leptonPdg(n * kLeptonSlots, 0), nLeptons(n);
  std::vector<float> cloud(n * kCloudSlots * kCloudFeatures);
  for (std::size_t i = 0; i < n; ++i) {
    const TTbarRecoEvent& e = events[i];
    if (e.jets.size() > J)
      throw ConfigError(fmt::format("putTTbarReco: event {} has {} jets, more than the {} slots",
                                    table.firstRow() + i, e.jets.size(), J));
    nJets[i] = static_cast<std::int32_t>(e.jets.size());
    for (std::size_t j = 0; j < e.jets.size(); ++j) {
      const FourVector& p = e.jets[j].p4;
      std::copy_n(std::array<double, 4>{p.px, p.py, p.pz, p.e}.data(), 4, &jets[(i * J + j) * 4]);
      btag[i * J + j] = e.jets[j].bTagged ? 1 : 0;
      parton[i * J + j] = static_cast<std::int8_t>(e.jets[j].truthParton);
    }
    nLeptons[i] = static_cast<std::int32_t>(e.leptons.size());
    for (std::size_t l = 0; l < std::min(e.leptons.size(), kLeptonSlots); ++l) {
      const FourVector& p = e.leptons[l].p4;
      std::copy_n(std::array<double, 4>{p.px, p.py, p.pz, p.e}.data(), 4,
                  &leptons[(i * kLeptonSlots + l) * 4]);
      leptonPdg[i * kLeptonSlots + l] = e.leptons[l].pdgId;
    }
    met[2 * i] = e.metX;
    met[2 * i + 1] = e.metY;
    sumEt[i] = e.sumEt;
    selection[i] = static_cast<std::int8_t>(e.selection);
    pass[i] = e.selected() ? 1 : 0;
    const TTbarPointCloud pc = pointCloud(e);
    for (int s = 0; s < kCloudSlots; ++s) {
      mask[i * kCloudSlots + s] = pc.mask[s];
      std::copy(pc.features[s].begin(), pc.features[s].end(),
                &cloud[(i * kCloudSlots + s) * kCloudFeatures]);
    }
  }
  table.eraseGroup("/reco/");
  table.set(ds::jetsP4, {J, 4}, std::move(jets));
  table.set(ds::jetsBTag, {J}, std::move(btag));
  table.set(ds::jetsParton, {J}, std::move(parton));
  table.set(ds::nJets, {}, std::move(nJets));
  table.set(ds::leptonsP4, {kLeptonSlots, 4}, std::move(leptons));
  table.set(ds::leptonsPdg, {kLeptonSlots}, std::move(leptonPdg));
  table.set(ds::nLeptons, {}, std::move(nLeptons));
  table.set(ds::met, {2}, std::move(met));
  table.set(ds::sumEt, {}, std::move(sumEt));
  table.set(ds::selection, {}, std::move(selection));
  table.set(ds::passSelection, {}, std::move(pass));
  table.set(ds::particles, {std::size_t{kCloudSlots}, std::size_t{kCloudFeatures}},
            std::move(cloud));
  table.set(ds::particlesMask, {std::size_t{kCloudSlots}}, std::move(mask));
}

std::vector<TTbarRecoEvent> getTTbarReco(const io::EventTable& table) {
  const std::size_t n = table.nEvents();
  const auto jets = table.get<double>(ds::jetsP4, {0, 4});
  const std::size_t J = n > 0 ? jets.size() / (4 * n) : 0;
  const auto btag = table.get<std::uint8_t>(ds::jetsBTag, {J});
  const auto parton = table.get<std::int8_t>(ds::jetsParton, {J});
  const auto nJets = table.get<std::int32_t>(ds::nJets, {});
  const auto leptons = table.get<double>(ds::leptonsP4, {kLeptonSlots, 4});
  const auto leptonPdg = table.get<std::int32_t>(ds::leptonsPdg, {kLeptonSlots});
  const auto nLeptons = table.get<std::int32_t>(ds::nLeptons, {});
  const auto met = table.get<double>(ds::met, {2});
  const auto sumEt = table.get<double>(ds::sumEt, {});
  const auto selection = table.get<std::int8_t>(ds::selection, {});
  auto fail = [&](const char* dataset, std::size_t i, const std::string& what) {
    return InputError(
        fmt::format("{}: {} of event {}: {}", table.source(), dataset, table.firstRow() + i, what));
  };
  std::vector<TTbarRecoEvent> events(n);
  for (std::size_t i = 0; i < n; ++i) {
    TTbarRecoEvent& e = events[i];
    if (nJets[i] < 0 || static_cast<std::size_t>(nJets[i]) > J)
      throw fail(ds::nJets, i, fmt::format("{} outside 0..{}", nJets[i], J));
    for (std::size_t j = 0; j < static_cast<std::size_t>(nJets[i]); ++j) {
      const double* v = &jets[(i * J + j) * 4];
      TTbarJet jet;
      jet.p4 = FourVector(v[0], v[1], v[2], v[3]);
      jet.bTagged = btag[i * J + j] != 0;
      jet.truthParton = parton[i * J + j];
      e.jets.push_back(jet);
    }
    if (nLeptons[i] < 0) throw fail(ds::nLeptons, i, fmt::format("{} < 0", nLeptons[i]));
    for (std::size_t l = 0; l < std::min<std::size_t>(nLeptons[i], kLeptonSlots); ++l) {
      const double* v = &leptons[(i * kLeptonSlots + l) * 4];
      const int pdg = leptonPdg[i * kLeptonSlots + l];
      if (pdg != 11 && pdg != -11 && pdg != 13 && pdg != -13)
        throw fail(ds::leptonsPdg, i, fmt::format("{} is not an electron or muon", pdg));
      e.leptons.push_back({FourVector(v[0], v[1], v[2], v[3]), pdg});
    }
    e.metX = met[2 * i];
    e.metY = met[2 * i + 1];
    e.sumEt = sumEt[i];
    if (selection[i] < 0 || selection[i] > static_cast<int>(TTbarSelection::tooFewBTags))
      throw fail(ds::selection, i, fmt::format("unknown code {}", selection[i]));
    e.selection = static_cast<TTbarSelection>(selection[i]);
  }
  return events;
}

}  // namespace nurec::detector::ttbar
