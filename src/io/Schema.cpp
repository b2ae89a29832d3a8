#include "nurec/io/Schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include "nurec/core/Error.hpp"

namespace nurec::io {

namespace {

void put4(std::vector<double>& out, const FourVector& v) {
  out.push_back(v.px);
  out.push_back(v.py);
  out.push_back(v.pz);
  out.push_back(v.e);
}

FourVector get4(const std::vector<double>& in, std::size_t offset) {
  return FourVector::fromArray(in.data() + offset);
}

std::vector<double> pairColumn(const std::vector<TruthEvent>& events,
                               const std::array<FourVector, 2> TruthEvent::*member) {
  std::vector<double> out;
  out.reserve(events.size() * 8);
  for (const auto& ev : events)
    for (const auto& v : ev.*member) put4(out, v);
  return out;
}

void readPair(const std::vector<double>& col, std::vector<TruthEvent>& events,
              std::array<FourVector, 2> TruthEvent::*member) {
  for (std::size_t i = 0; i < events.size(); ++i)
    for (int t = 0; t < 2; ++t) (events[i].*member)[t] = get4(col, i * 8 + t * 4);
}

}  // namespace

std::string nuP4Name(const std::string& method) {
  return "/nu/" + method + "/p4";
}
std::string nuCandidatesName(const std::string& method) {
  return "/nu/" + method + "/candidates";
}
std::string nuMassName(const std::string& method) {
  return "/nu/" + method + "/mtautau";
}
std::string nuMassQuantilesName(const std::string& method) {
  return "/nu/" + method + "/mtautau_quantiles";
}
std::string nuMassIntervalName(const std::string& method) {
  return "/nu/" + method + "/mtautau_interval68";
}
std::string nuModelAttribute(const std::string& method) {
  return "nu_" + method + "_model";
}

namespace {
// FNV-1a of a file: identifies the model weights a diffusion response was fitted with.
std::string fileChecksum(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open the model weights", path));
  std::uint64_t h = 1469598103934665603ull;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<unsigned char>(buf[i]);
      h *= 1099511628211ull;
    }
  }
  return fmt::format("{:016x}", h);
}
}  // namespace

std::string diffusionModelLabel(const std::string& modelDir) {
  const std::string weights = (std::filesystem::path(modelDir) / "model.pt").string();
  return fmt::format("{} (model.pt FNV-1a {})", modelDir, fileChecksum(weights));
}
std::string nuStatusName(const std::string& method) {
  return "/nu/" + method + "/status";
}

std::vector<std::string> nuMethods(const EventTable& table) {
  std::vector<std::string> out;
  for (const auto& [name, col] : table.columns()) {
    if (name.rfind("/nu/", 0) == 0 && name.size() > 7 && name.substr(name.size() - 3) == "/p4") {
      out.push_back(name.substr(4, name.size() - 7));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void putTruth(EventTable& table, const std::vector<TruthEvent>& events, SpinTruthContent spin) {
  if (events.size() != table.nEvents()) throw Error("internal: putTruth row count mismatch");
  table.eraseGroup("/truth/");
  const std::size_t n = events.size();
  std::vector<double> weight(n);
  std::vector<double> boson;
  boson.reserve(4 * n);
  std::vector<std::int8_t> modes;
  modes.reserve(2 * n);
  std::size_t maxProducts = 1, maxRecoil = 1;
  for (const auto& ev : events) {
    maxProducts = std::max({maxProducts, ev.tauProducts[0].size(), ev.tauProducts[1].size()});
    maxRecoil = std::max(maxRecoil, ev.recoil.size());
  }
  std::vector<double> products(n * 2 * maxProducts * 4, 0.0), recoil(n * maxRecoil * 4, 0.0);
  std::vector<std::int32_t> productsPdg(n * 2 * maxProducts, 0), recoilPdg(n * maxRecoil, 0);
  constexpr std::size_t kMaxNeutrinos = 2;
  std::vector<double> nuEach(n * 2 * kMaxNeutrinos * 4, 0.0), partonX(2 * n);
  std::vector<std::int32_t> nuEachPdg(n * 2 * kMaxNeutrinos, 0), partonPdg(2 * n);
  std::vector<double> spinB, spinC;
  spinB.reserve(6 * n);
  spinC.reserve(9 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& ev = events[i];
    weight[i] = ev.weightPb;
    put4(boson, ev.boson);
    for (int t = 0; t < 2; ++t) {
      modes.push_back(static_cast<std::int8_t>(ev.decayMode[t]));
      for (std::size_t j = 0; j < ev.tauProducts[t].size(); ++j) {
        const std::size_t slot = (i * 2 + t) * maxProducts + j;
        const auto a = ev.tauProducts[t][j].p4.toArray();
        std::copy(a.begin(), a.end(), products.begin() + static_cast<std::ptrdiff_t>(slot * 4));
        productsPdg[slot] = ev.tauProducts[t][j].pdgId;
      }
    }
    for (int t = 0; t < 2; ++t) {
      if (ev.tauNeutrinos[t].size() > kMaxNeutrinos)
        throw Error("internal: more than 2 neutrinos in a tau decay");
      for (std::size_t j = 0; j < ev.tauNeutrinos[t].size(); ++j) {
        const std::size_t slot = (i * 2 + t) * kMaxNeutrinos + j;
        const auto a = ev.tauNeutrinos[t][j].p4.toArray();
        std::copy(a.begin(), a.end(), nuEach.begin() + static_cast<std::ptrdiff_t>(slot * 4));
        nuEachPdg[slot] = ev.tauNeutrinos[t][j].pdgId;
      }
      partonPdg[i * 2 + t] = ev.partonPdg[t];
      partonX[i * 2 + t] = ev.partonX[t];
    }
    for (std::size_t j = 0; j < ev.recoil.size(); ++j) {
      const std::size_t slot = i * maxRecoil + j;
      const auto a = ev.recoil[j].p4.toArray();
      std::copy(a.begin(), a.end(), recoil.begin() + static_cast<std::ptrdiff_t>(slot * 4));
      recoilPdg[slot] = ev.recoil[j].pdgId;
    }
    spinB.insert(spinB.end(), ev.spin.bPlus.begin(), ev.spin.bPlus.end());
    spinB.insert(spinB.end(), ev.spin.bMinus.begin(), ev.spin.bMinus.end());
    for (const auto& row : ev.spin.c) spinC.insert(spinC.end(), row.begin(), row.end());
  }
  table.set(ds::weight, {}, std::move(weight));
  table.set(ds::bosonP4, {4}, std::move(boson));
  table.set(ds::tauP4, {2, 4}, pairColumn(events, &TruthEvent::tau));
  table.set(ds::visP4, {2, 4}, pairColumn(events, &TruthEvent::visible));
  table.set(ds::nuP4, {2, 4}, pairColumn(events, &TruthEvent::neutrinos));
  table.set(ds::chargedPiP4, {2, 4}, pairColumn(events, &TruthEvent::chargedPion));
  table.set(ds::neutralPiP4, {2, 4}, pairColumn(events, &TruthEvent::neutralPion));
  table.set(ds::decayMode, {2}, std::move(modes));
  table.set(ds::productsP4, {2, maxProducts, 4}, std::move(products));
  table.set(ds::productsPdg, {2, maxProducts}, std::move(productsPdg));
  table.set(ds::recoilP4, {maxRecoil, 4}, std::move(recoil));
  table.set(ds::recoilPdg, {maxRecoil}, std::move(recoilPdg));
  table.set(ds::neutrinosEachP4, {2, kMaxNeutrinos, 4}, std::move(nuEach));
  table.set(ds::neutrinosEachPdg, {2, kMaxNeutrinos}, std::move(nuEachPdg));
  table.set(ds::partonPdg, {2}, std::move(partonPdg));
  table.set(ds::partonX, {2}, std::move(partonX));
  // Positions only when every event has them (generated samples, HepMC3 input with positions).
  if (n > 0 &&
      std::all_of(events.begin(), events.end(), [](const auto& e) { return e.hasVertices; })) {
    std::vector<double> pv, dv;
    pv.reserve(3 * n);
    dv.reserve(6 * n);
    for (const auto& ev : events) {
      pv.insert(pv.end(), {ev.primaryVertex.x, ev.primaryVertex.y, ev.primaryVertex.z});
      for (const auto& v : ev.tauDecayVertex) dv.insert(dv.end(), {v.x, v.y, v.z});
    }
    table.set(ds::primaryVertex, {3}, std::move(pv));
    table.set(ds::tauDecayVertex, {2, 3}, std::move(dv));
  }
  if (spin == SpinTruthContent::Unknown) {
    table.setAttribute(kSpinTruthAttribute, std::string(kSpinTruthUnknown));
    return;
  }
  table.set(ds::spinB, {2, 3}, std::move(spinB));
  table.set(ds::spinC, {3, 3}, std::move(spinC));
}

std::vector<DecayMode> getDecayModes(const EventTable& table) {
  const auto raw = table.get<std::int8_t>(ds::decayMode, {2});
  std::vector<DecayMode> modes(raw.size());
  for (std::size_t k = 0; k < raw.size(); ++k) {
    const int m = raw[k];
    if (m < 0 || m > 4)
      throw InputError(fmt::format("{}: dataset {} has decay mode {} in event {}, expected 0-4",
                                   table.source(), ds::decayMode, m, k / 2));
    modes[k] = static_cast<DecayMode>(m);
  }
  return modes;
}

std::vector<TruthEvent> getTruth(const EventTable& table) {
  const std::size_t n = table.nEvents();
  std::vector<TruthEvent> events(n);
  const auto weight = table.get<double>(ds::weight, {});
  const auto boson = table.get<double>(ds::bosonP4, {4});
  readPair(table.get<double>(ds::tauP4, {2, 4}), events, &TruthEvent::tau);
  readPair(table.get<double>(ds::visP4, {2, 4}), events, &TruthEvent::visible);
  readPair(table.get<double>(ds::nuP4, {2, 4}), events, &TruthEvent::neutrinos);
  readPair(table.get<double>(ds::chargedPiP4, {2, 4}), events, &TruthEvent::chargedPion);
  readPair(table.get<double>(ds::neutralPiP4, {2, 4}), events, &TruthEvent::neutralPion);
  const auto modes = getDecayModes(table);
  for (std::size_t i = 0; i < n; ++i) {
    events[i].weightPb = weight[i];
    events[i].boson = get4(boson, i * 4);
    for (int t = 0; t < 2; ++t) events[i].decayMode[t] = modes[i * 2 + t];
  }
  if (table.has(ds::productsP4) && table.has(ds::productsPdg)) {
    const auto& shape = table.column(ds::productsP4).rowShape;
    const std::size_t m = shape.size() == 3 ? shape[1] : 0;
    const auto p4 = table.get<double>(ds::productsP4, {2, m, 4});
    const auto pdg = table.get<std::int32_t>(ds::productsPdg, {2, m});
    for (std::size_t i = 0; i < n; ++i)
      for (int t = 0; t < 2; ++t)
        for (std::size_t j = 0; j < m; ++j) {
          const std::size_t slot = (i * 2 + t) * m + j;
          if (pdg[slot] != 0) events[i].tauProducts[t].push_back({get4(p4, slot * 4), pdg[slot]});
        }
  }
  if (table.has(ds::recoilP4) && table.has(ds::recoilPdg)) {
    const auto& shape = table.column(ds::recoilP4).rowShape;
    const std::size_t r = shape.size() == 2 ? shape[0] : 0;
    const auto p4 = table.get<double>(ds::recoilP4, {r, 4});
    const auto pdg = table.get<std::int32_t>(ds::recoilPdg, {r});
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < r; ++j) {
        const std::size_t slot = i * r + j;
        if (pdg[slot] != 0) events[i].recoil.push_back({get4(p4, slot * 4), pdg[slot]});
      }
  }
  if (table.has(ds::neutrinosEachP4) && table.has(ds::neutrinosEachPdg)) {
    const auto p4 = table.get<double>(ds::neutrinosEachP4, {2, 2, 4});
    const auto pdg = table.get<std::int32_t>(ds::neutrinosEachPdg, {2, 2});
    for (std::size_t i = 0; i < n; ++i)
      for (int t = 0; t < 2; ++t)
        for (std::size_t j = 0; j < 2; ++j) {
          const std::size_t slot = (i * 2 + t) * 2 + j;
          if (pdg[slot] != 0) events[i].tauNeutrinos[t].push_back({get4(p4, slot * 4), pdg[slot]});
        }
  }
  if (table.has(ds::partonPdg) && table.has(ds::partonX)) {
    const auto pdg = table.get<std::int32_t>(ds::partonPdg, {2});
    const auto x = table.get<double>(ds::partonX, {2});
    for (std::size_t i = 0; i < n; ++i)
      for (int t = 0; t < 2; ++t) {
        events[i].partonPdg[t] = pdg[i * 2 + t];
        events[i].partonX[t] = x[i * 2 + t];
      }
  }
  if (table.has(ds::spinB) && table.has(ds::spinC)) {
    const auto b = table.get<double>(ds::spinB, {2, 3});
    const auto c = table.get<double>(ds::spinC, {3, 3});
    for (std::size_t i = 0; i < n; ++i) {
      for (int j = 0; j < 3; ++j) {
        events[i].spin.bPlus[j] = b[i * 6 + j];
        events[i].spin.bMinus[j] = b[i * 6 + 3 + j];
        for (int k = 0; k < 3; ++k) events[i].spin.c[j][k] = c[i * 9 + j * 3 + k];
      }
    }
  }
  if (table.has(ds::primaryVertex) && table.has(ds::tauDecayVertex)) {
    const auto pv = table.get<double>(ds::primaryVertex, {3});
    const auto dv = table.get<double>(ds::tauDecayVertex, {2, 3});
    for (std::size_t i = 0; i < n; ++i) {
      events[i].primaryVertex = {pv[i * 3], pv[i * 3 + 1], pv[i * 3 + 2]};
      for (int t = 0; t < 2; ++t)
        events[i].tauDecayVertex[t] = {dv[i * 6 + t * 3], dv[i * 6 + t * 3 + 1],
                                       dv[i * 6 + t * 3 + 2]};
      events[i].hasVertices = true;
    }
  }
  return events;
}

void putReco(EventTable& table, const std::vector<RecoEvent>& events) {
  if (events.size() != table.nEvents()) throw Error("internal: putReco row count mismatch");
  const std::size_t n = events.size();
  std::vector<double> tau, charged, neutral, met, sumEt;
  tau.reserve(8 * n);
  charged.reserve(8 * n);
  neutral.reserve(8 * n);
  std::vector<std::int8_t> types, channel;
  std::vector<std::uint8_t> trig, sr;
  std::vector<std::int32_t> nJets;
  std::size_t maxJets = 1;
  for (const auto& ev : events) maxJets = std::max(maxJets, ev.jets.size());
  std::vector<double> jets(n * maxJets * 4, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& ev = events[i];
    for (int t = 0; t < 2; ++t) {
      put4(tau, ev.tau[t]);
      put4(charged, ev.charged[t]);
      put4(neutral, ev.neutral[t]);
      types.push_back(static_cast<std::int8_t>(ev.tauType[t]));
    }
    met.push_back(ev.metX);
    met.push_back(ev.metY);
    sumEt.push_back(ev.sumEt);
    for (std::size_t j = 0; j < ev.jets.size(); ++j) {
      const auto a = ev.jets[j].toArray();
      std::copy(a.begin(), a.end(),
                jets.begin() + static_cast<std::ptrdiff_t>((i * maxJets + j) * 4));
    }
    nJets.push_back(static_cast<std::int32_t>(ev.jets.size()));
    channel.push_back(static_cast<std::int8_t>(ev.channel));
    trig.push_back(ev.passTrigger ? 1 : 0);
    sr.push_back(ev.passSr ? 1 : 0);
  }
  table.set(ds::recoTauP4, {2, 4}, std::move(tau));
  table.set(ds::recoTauType, {2}, std::move(types));
  table.set(ds::recoChargedP4, {2, 4}, std::move(charged));
  table.set(ds::recoNeutralP4, {2, 4}, std::move(neutral));
  table.set(ds::recoMet, {2}, std::move(met));
  table.set(ds::recoSumEt, {}, std::move(sumEt));
  table.set(ds::recoJetsP4, {maxJets, 4}, std::move(jets));
  table.set(ds::recoNJets, {}, std::move(nJets));
  table.set(ds::recoChannel, {}, std::move(channel));
  table.set(ds::recoPassTrigger, {}, std::move(trig));
  table.set(ds::recoPassSr, {}, std::move(sr));
  if (n > 0 && std::all_of(events.begin(), events.end(),
                           [](const auto& e) { return e.hasImpactParameters; })) {
    std::vector<double> pv, ip;
    pv.reserve(3 * n);
    ip.reserve(8 * n);
    for (const auto& ev : events) {
      pv.insert(pv.end(), {ev.primaryVertex.x, ev.primaryVertex.y, ev.primaryVertex.z});
      for (const auto& t : ev.trackIp)
        ip.insert(ip.end(), {t.d0Mm, t.z0Mm, t.sigmaD0Mm, t.sigmaZ0Mm});
    }
    table.set(ds::recoPrimaryVertex, {3}, std::move(pv));
    table.set(ds::recoTrackIp, {2, 4}, std::move(ip));
  }
}

void validateReco(const EventTable& table) {
  const std::size_t n = table.nEvents();
  const std::string src = table.source().empty() ? std::string("event table") : table.source();
  auto fail = [&](const char* dataset, std::size_t event, const std::string& what) {
    throw InputError(fmt::format("{}: dataset {} {} in event {}", src, dataset, what, event));
  };
  // Shape of a present dataset as stored, so that get() checks finiteness whatever the shape; a
  // wrong shape is then caught by the reader that needs the dataset.
  auto rowShape = [&](const char* name) { return table.column(name).rowShape; };
  // Finite values (EventTable::get names dataset and event of the first NaN or inf).
  for (const char* name : {ds::recoTauP4, ds::recoChargedP4, ds::recoNeutralP4, ds::recoMet,
                           ds::recoJetsP4, ds::recoPrimaryVertex, ds::recoTrackIp})
    if (table.has(name)) table.get<double>(name, rowShape(name));
  if (table.has(ds::recoParticles))
    table.get<float>(ds::recoParticles, rowShape(ds::recoParticles));
  if (table.has(ds::recoPrimaryVertex) != table.has(ds::recoTrackIp)) {
    throw InputError(fmt::format("{}: {} and {} come together; the file has only one of them", src,
                                 ds::recoPrimaryVertex, ds::recoTrackIp));
  }
  if (table.has(ds::recoTauType)) {
    const auto types = table.get<std::int8_t>(ds::recoTauType, {2});
    for (std::size_t i = 0; i < 2 * n; ++i)
      if (types[i] < -1 || types[i] > 3)
        fail(ds::recoTauType, i / 2, fmt::format("has tau type {}, expected -1..3,", types[i]));
  }
  if (table.has(ds::recoChannel)) {
    const auto channel = table.get<std::int8_t>(ds::recoChannel, {});
    for (std::size_t i = 0; i < n; ++i)
      if (channel[i] < -1 || channel[i] >= kNumChannels)
        fail(ds::recoChannel, i, fmt::format("has channel {}, expected -1..6,", channel[i]));
  }
  if (table.has(ds::recoNJets) && table.has(ds::recoJetsP4)) {
    const auto& jetShape =
        table.has(ds::recoJetsP4) ? rowShape(ds::recoJetsP4) : std::vector<std::size_t>{};
    const std::size_t maxJets = jetShape.size() == 2 ? jetShape[0] : 0;
    const auto nJets = table.get<std::int32_t>(ds::recoNJets, {});
    for (std::size_t i = 0; i < n; ++i)
      if (nJets[i] < 0 || static_cast<std::size_t>(nJets[i]) > maxJets)
        fail(ds::recoNJets, i,
             fmt::format("has {} jets, the jet array holds {},", nJets[i], maxJets));
  }
  if (table.has(ds::recoSumEt)) {
    const auto sumEt = table.get<double>(ds::recoSumEt, {});
    for (std::size_t i = 0; i < n; ++i)
      if (!(sumEt[i] >= 0)) fail(ds::recoSumEt, i, fmt::format("is negative ({})", sumEt[i]));
  }
  if (table.has(ds::recoParticlesMask)) {
    const auto shape = rowShape(ds::recoParticlesMask);
    const auto mask = table.get<std::uint8_t>(ds::recoParticlesMask, shape);
    const std::size_t slots = n == 0 ? 0 : mask.size() / n;
    for (std::size_t k = 0; k < mask.size(); ++k)
      if (mask[k] > 1)
        fail(ds::recoParticlesMask, k / slots, fmt::format("has value {} (not 0/1)", mask[k]));
  }
}

std::vector<RecoEvent> getReco(const EventTable& table) {
  validateReco(table);
  const std::size_t n = table.nEvents();
  std::vector<RecoEvent> events(n);
  const auto tau = table.get<double>(ds::recoTauP4, {2, 4});
  const auto charged = table.get<double>(ds::recoChargedP4, {2, 4});
  const auto neutral = table.get<double>(ds::recoNeutralP4, {2, 4});
  const auto types = table.get<std::int8_t>(ds::recoTauType, {2});
  const auto met = table.get<double>(ds::recoMet, {2});
  const auto& jetShape = table.column(ds::recoJetsP4).rowShape;
  const std::size_t maxJets = jetShape.size() == 2 ? jetShape[0] : 0;
  const auto jets = table.get<double>(ds::recoJetsP4, {maxJets, 4});
  const auto nJets = table.get<std::int32_t>(ds::recoNJets, {});
  const auto channel = table.get<std::int8_t>(ds::recoChannel, {});
  const auto trig = table.get<std::uint8_t>(ds::recoPassTrigger, {});
  const auto sr = table.get<std::uint8_t>(ds::recoPassSr, {});
  std::vector<double> sumEt;
  if (table.has(ds::recoSumEt)) sumEt = table.get<double>(ds::recoSumEt, {});
  std::vector<double> pv, ip;
  if (table.has(ds::recoTrackIp)) {
    pv = table.get<double>(ds::recoPrimaryVertex, {3});
    ip = table.get<double>(ds::recoTrackIp, {2, 4});
  }
  for (std::size_t i = 0; i < n; ++i) {
    auto& ev = events[i];
    for (int t = 0; t < 2; ++t) {
      ev.tau[t] = get4(tau, i * 8 + t * 4);
      ev.charged[t] = get4(charged, i * 8 + t * 4);
      ev.neutral[t] = get4(neutral, i * 8 + t * 4);
      ev.tauType[t] = static_cast<RecoTauType>(types[i * 2 + t]);
    }
    ev.metX = met[i * 2];
    ev.metY = met[i * 2 + 1];
    if (!sumEt.empty()) ev.sumEt = sumEt[i];
    for (int j = 0; j < nJets[i]; ++j) ev.jets.push_back(get4(jets, (i * maxJets + j) * 4));
    ev.channel = static_cast<Channel>(channel[i]);
    ev.passTrigger = trig[i] != 0;
    ev.passSr = sr[i] != 0;
    if (!ip.empty()) {
      ev.primaryVertex = {pv[i * 3], pv[i * 3 + 1], pv[i * 3 + 2]};
      for (int t = 0; t < 2; ++t) {
        const double* x = ip.data() + i * 8 + t * 4;
        ev.trackIp[t] = {x[0], x[1], x[2], x[3]};
      }
      ev.hasImpactParameters = true;
    }
  }
  return events;
}

void putNu(EventTable& table, const std::string& method, const NuEstimate& nu) {
  const std::size_t n = table.nEvents();
  if (nu.p4.size() != n || nu.status.size() != n) throw Error("internal: putNu row count mismatch");
  std::vector<double> p4;
  p4.reserve(8 * n);
  for (const auto& pair : nu.p4)
    for (const auto& v : pair) put4(p4, v);
  table.set(nuP4Name(method), {2, 4}, std::move(p4));
  table.set(nuStatusName(method), {}, nu.status);
}

NuEstimate getNu(const EventTable& table, const std::string& method) {
  NuEstimate nu;
  const auto p4 = table.get<double>(nuP4Name(method), {2, 4});
  nu.status = table.get<std::int8_t>(nuStatusName(method), {});
  nu.p4.resize(table.nEvents());
  for (std::size_t i = 0; i < table.nEvents(); ++i)
    for (int t = 0; t < 2; ++t) nu.p4[i][t] = get4(p4, i * 8 + t * 4);
  return nu;
}

}  // namespace nurec::io
