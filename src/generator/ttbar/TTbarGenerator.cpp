#include "nurec/generator/ttbar/TTbarGenerator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "nurec/core/Error.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/generator/ChunkedLoop.hpp"

namespace nurec::generator::ttbar {

namespace {
constexpr double kPi = constants::pi;
// The pilot run that finds w_max uses its own stream, so that w_max depends on the configuration
// only (as in the Z generator).
constexpr std::uint64_t kPilotSeed = 0x5454424152504C54ull;
constexpr std::uint64_t kPilotStream = 0x50494C4F54545442ull;
// m_tt mapping m = m1 + m2 + A v^2/(1-v)^2 with v uniform: flat near threshold in beta, and a
// tail falling slower than the cross section.
constexpr double kMassScale = 200.0;

double twoBodyMomentum(double m, double m1, double m2) {
  const double a = m * m - (m1 + m2) * (m1 + m2), b = m * m - (m1 - m2) * (m1 - m2);
  return a <= 0 ? 0.0 : std::sqrt(a * b) / (2 * m);
}

Vector3 isotropic(Rng& rng) {
  const double c = rng.uniform(-1, 1), phi = rng.uniform(0, 2 * kPi);
  const double s = std::sqrt(std::max(0.0, 1 - c * c));
  return {s * std::cos(phi), s * std::sin(phi), c};
}
}  // namespace

RecoilConfig defaultTTbarIsrConfig() {
  // The Z generator's values (docs/physics-validation.md "Recoil model") except Q = m_tt, the
  // hard scale (the Z tune Q = 2.5 m gives mean pT(t tbar) 90 GeV here); not tuned, numbers in
  // docs/ttbar.md "Initial-state recoil".
  RecoilConfig c;
  c.enabled = true;
  c.startScale = 1.0;
  return c;
}

const char* partonName(Parton p) {
  static const char* names[kPartonCount] = {"b",  "bbar", "q",   "qbar'",   "lepton", "neutrino",
                                            "W+", "W-",   "top", "antitop", "ttbar"};
  return names[static_cast<int>(p)];
}

std::array<double, kPartonCount * kPartonComponents> partonRecord(
    const std::array<FourVector, kPartonCount>& partons) {
  std::array<double, kPartonCount * kPartonComponents> r{};
  for (int i = 0; i < kPartonCount; ++i) {
    const FourVector& p = partons[i];
    r[5 * i + 0] = p.m();
    r[5 * i + 1] = p.e;
    r[5 * i + 2] = p.px;
    r[5 * i + 3] = p.py;
    r[5 * i + 4] = p.pz;
  }
  return r;
}

std::array<double, kPartonCount * kPartonComponents> TTbarEvent::record() const {
  return partonRecord(partons);
}

void TTbarConfig::validate() const {
  require(
      std::isfinite(sqrtS) && sqrtS > 2 * (top::mTop + 30),
      fmt::format("ttbar generator: sqrt_s must exceed the t tbar threshold (got {} GeV)", sqrtS));
  require(nEvents > 0, "ttbar generator: the number of events must be > 0");
  require(std::isfinite(alphaSMz) && alphaSMz > 0 && alphaSMz < 0.3,
          fmt::format("ttbar generator: alpha_s(m_Z) must be in (0, 0.3) (got {})", alphaSMz));
  require(breitWignerWidths >= 1 && breitWignerWidths <= 20,
          fmt::format("ttbar generator: breit_wigner_widths must be in [1, 20] (got {})",
                      breitWignerWidths));
  require(pilotPoints >= 1000, "ttbar generator: pilot_points must be >= 1000");
  require(maxWeightSafety >= 1, "ttbar generator: max_weight_safety must be >= 1");
  require(maxAttemptsPerEvent >= 1, "ttbar generator: max_attempts_per_event must be >= 1");
  isr.validate();
}

std::string TTbarConfig::toYaml() const {
  std::string y;
  y += "process: ttbar-semilep\n";
  y += "pdf: CTEQ5L\n";
  y += fmt::format("sqrt_s: {}\n", sqrtS);
  y += fmt::format("seed: {}\n", seed);
  y += fmt::format("events: {}\n", nEvents);
  y += fmt::format("scale: {}\n", scale == ScaleChoice::topMass ? "m_t" : "m_T");
  y += fmt::format("alpha_s_mz: {}\n", alphaSMz);
  y += fmt::format("spin_correlations: {}\n", spinCorrelations);
  y += fmt::format("breit_wigner: {}\n", breitWigner);
  y += fmt::format("breit_wigner_widths: {}\n", breitWignerWidths);
  y += "sampling:\n";
  y += fmt::format("  pilot_points: {}\n", pilotPoints);
  y += fmt::format("  max_weight_safety: {}\n", maxWeightSafety);
  y += fmt::format("  max_attempts_per_event: {}\n", maxAttemptsPerEvent);
  // Initial-state emissions balancing the t tbar pT (docs/ttbar.md "Initial-state recoil").
  y += fmt::format("recoil: {}\n", recoil);
  y += "isr:\n";
  y += fmt::format("  alpha_s: {}\n", isr.alphaSMz);
  y += fmt::format("  pt0: {}\n", isr.pt0GeV);
  y += fmt::format("  pt_min: {}\n", isr.ptMinGeV);
  y += fmt::format("  start_scale: {}\n", isr.startScale);
  y += fmt::format("  primordial_kt: {}\n", isr.primordialKtGeV);
  return y;
}

namespace {
RecoilConfig validatedIsr(const TTbarConfig& config) {
  config.validate();
  RecoilConfig c = config.isr;
  c.enabled = config.recoil;
  return c;
}
}  // namespace

TTbarGenerator::TTbarGenerator(const TTbarConfig& config)
    : config_(config), isrModel_(validatedIsr(config)) {
  widthTop_ = widthTop();
  widthW_ = widthW();
  Rng rng(kPilotSeed, 0, kPilotStream);
  double wMax = 0;
  for (std::size_t i = 0; i < config_.pilotPoints; ++i)
    wMax = std::max(wMax, sampleHardPoint(rng).weight);
  require(wMax > 0, "ttbar generator: the pilot run found no phase-space point with weight > 0");
  maxWeight_ = wMax * config_.maxWeightSafety;
}

double TTbarGenerator::sampleMass(double mass, double width, double lo, double hi, Rng& rng) const {
  // Breit-Wigner in m^2 (Cauchy), cut to [lo, hi].
  const double mg = mass * width;
  const double a = std::atan((lo * lo - mass * mass) / mg),
               b = std::atan((hi * hi - mass * mass) / mg);
  const double m2 = mass * mass + mg * std::tan(rng.uniform(a, b));
  return std::sqrt(m2);
}

TTbarGenerator::HardPoint TTbarGenerator::sampleHardPoint(Rng& rng) const {
  HardPoint p;
  const double n = config_.breitWignerWidths;
  if (config_.breitWigner) {
    p.m1 =
        sampleMass(top::mTop, widthTop_, top::mTop - n * widthTop_, top::mTop + n * widthTop_, rng);
    p.m2 =
        sampleMass(top::mTop, widthTop_, top::mTop - n * widthTop_, top::mTop + n * widthTop_, rng);
  } else {
    p.m1 = p.m2 = top::mTop;
  }
  const double v = rng.uniform();
  p.mhat = p.m1 + p.m2 + kMassScale * v * v / ((1 - v) * (1 - v));
  const double jacM = 2 * kMassScale * v / ((1 - v) * (1 - v) * (1 - v));
  p.c = rng.uniform(-1, 1);
  p.phi = rng.uniform(0, 2 * kPi);
  const double u = rng.uniform(-1, 1);
  if (!(p.mhat < config_.sqrtS)) return p;
  const double s = p.mhat * p.mhat, tau = s / (config_.sqrtS * config_.sqrtS);
  const double yMax = -0.5 * std::log(tau);
  p.y = u * yMax;
  p.x1 = std::sqrt(tau) * std::exp(p.y);
  p.x2 = std::sqrt(tau) * std::exp(-p.y);
  // The matrix elements are those of equal masses: the mean of the two Breit-Wigner masses, which
  // puts the threshold at m1 + m2.
  const double mBar = 0.5 * (p.m1 + p.m2);
  const double beta = std::sqrt(std::max(0.0, 1 - 4 * mBar * mBar / s));
  const double pt = 0.5 * p.mhat * beta * std::sqrt(1 - p.c * p.c);
  p.scale = config_.scale == ScaleChoice::topMass ? top::mTop : std::sqrt(mBar * mBar + pt * pt);
  const double as = alphaS(p.scale, config_.alphaSMz);
  const Cteq5L pdf;
  const PartonDensities f1 = pdf(p.x1, p.scale), f2 = pdf(p.x2, p.scale);
  const double jac = (2 / p.mhat) * jacM * (2 * yMax) * 2 * units::gev2ToPb * 0.5 * s * beta;
  p.gg = f1.g * f2.g * dSigmaDtGG(s, p.c, mBar, as) * jac;
  const double qqKernel = dSigmaDtQQbar(s, p.c, mBar, as) * jac;
  double sum = p.gg;
  for (int q = 1; q <= 5; ++q) {
    p.qq[q - 1][0] = f1.xf(q) * f2.xf(-q) * qqKernel;
    p.qq[q - 1][1] = f1.xf(-q) * f2.xf(q) * qqKernel;
    sum += p.qq[q - 1][0] + p.qq[q - 1][1];
  }
  p.weight = sum;
  return p;
}

TTbarGenerator::TopDecay TTbarGenerator::decayTop(double mt, double analyserMass, Rng& rng,
                                                  std::uint64_t& overweights) const {
  const double mb = top::mB;
  double mw = top::mW;
  if (config_.breitWigner) {
    // m_W from the Breit-Wigner times the rest of the V-A rate at that mass: the t -> W b phase
    // space p*/m_t and the lepton-angle average m_W^2 (E_t E_b - P^2/3) (W rest frame).
    const double lo = top::mW - config_.breitWignerWidths * widthW_;
    const double hi = std::min(top::mW + config_.breitWignerWidths * widthW_, mt - mb - 1e-3);
    auto rate = [&](double m) {
      const double et = (mt * mt + m * m - mb * mb) / (2 * m),
                   eb = (mt * mt - m * m - mb * mb) / (2 * m);
      const double pp2 = std::max(0.0, eb * eb - mb * mb);
      return twoBodyMomentum(mt, m, mb) / mt * m * m * (et * eb - pp2 / 3);
    };
    double rMax = 0;
    for (int i = 0; i <= 64; ++i) rMax = std::max(rMax, rate(lo + (hi - lo) * i / 64.0));
    rMax *= 1.05;
    for (;;) {
      mw = sampleMass(top::mW, widthW_, lo, hi, rng);
      const double r = rate(mw);
      if (r > rMax) ++overweights;
      if (rng.uniform() * rMax < r) break;
    }
  }
  const double pStar = twoBodyMomentum(mt, mw, mb);
  const Vector3 dir = isotropic(rng);
  const FourVector w = FourVector::fromMomentumMass(dir * pStar, mw);
  TopDecay d;
  d.b = FourVector::fromMomentumMass(dir * -pStar, mb);
  // W rest frame: |M|^2 ~ (p_t.p_analyser)(p_b.p_partner); with p_t and p_b collinear there,
  // the product is bounded by (m_W/2)^2 ((E_t + E_b)/2)^2.
  const FourVector tW = FourVector{0, 0, 0, mt}.inRestFrameOf(w);
  const FourVector bW = d.b.inRestFrameOf(w);
  const double q = twoBodyMomentum(mw, analyserMass, 0.0);
  const double bound = 1.01 * std::pow(0.5 * mw * 0.5 * (tW.e + bW.e), 2);
  for (;;) {
    const Vector3 l = isotropic(rng);
    const FourVector f = FourVector::fromMomentumMass(l * q, analyserMass);
    const FourVector partner = FourVector::fromMomentumMass(l * -q, 0.0);
    const double me = tW.dot(f) * bW.dot(partner);
    if (me > bound) ++overweights;
    if (rng.uniform() * bound < me) {
      d.analyser = f.fromRestFrameOf(w);
      d.partner = partner.fromRestFrameOf(w);
      break;
    }
  }
  return d;
}

TTbarEvent TTbarGenerator::generate(std::size_t index, TTbarCounters& counters) const {
  Rng rng(config_.seed, index, streams::generator);
  HardPoint p;
  for (std::size_t attempt = 0;; ++attempt) {
    if (attempt == config_.maxAttemptsPerEvent)
      throw Error(
          fmt::format("ttbar generator: event {} found no accepted phase-space point in {} "
                      "attempts",
                      index, config_.maxAttemptsPerEvent));
    p = sampleHardPoint(rng);
    ++counters.hardTrials;
    counters.sumWeight += p.weight;
    counters.sumWeight2 += p.weight * p.weight;
    if (p.weight > maxWeight_) ++counters.overweights;
    if (rng.uniform() * maxWeight_ < p.weight) break;
  }
  ++counters.hardAccepted;
  TTbarEvent ev;
  ev.x1 = p.x1;
  ev.x2 = p.x2;
  ev.scaleGeV = p.scale;
  // Subprocess in proportion to its weight at this point.
  double r = rng.uniform() * p.weight - p.gg;
  int quark = 0, quarkFromB = 0;
  if (r < 0) {
    ev.initial = InitialState::gluonGluon;
    ev.incomingPdgA = ev.incomingPdgB = 21;
  } else {
    ev.initial = InitialState::quarkAntiquark;
    quark = 5, quarkFromB = 1;
    for (int q = 1; q <= 5 && r >= 0; ++q)
      for (int side = 0; side < 2; ++side) {
        r -= p.qq[q - 1][side];
        if (r < 0) {
          quark = q;
          quarkFromB = side;
          break;
        }
      }
    ev.incomingPdgA = quarkFromB ? -quark : quark;
    ev.incomingPdgB = -ev.incomingPdgA;
  }
  // Parton frame (t tbar rest frame), beam A along +z.
  const double sTheta = std::sqrt(1 - p.c * p.c);
  const Vector3 dir{sTheta * std::cos(p.phi), sTheta * std::sin(p.phi), p.c};
  const double pStar = twoBodyMomentum(p.mhat, p.m1, p.m2);
  const FourVector topCm = FourVector::fromMomentumMass(dir * pStar, p.m1);
  const FourVector antitopCm = FourVector::fromMomentumMass(dir * -pStar, p.m2);
  const FourVector beamA{0, 0, 0.5 * p.mhat, 0.5 * p.mhat},
      beamB{0, 0, -0.5 * p.mhat, 0.5 * p.mhat};
  const bool qFromB = ev.initial == InitialState::quarkAntiquark && quarkFromB;
  ev.productionC = productionSpinCorrelation(ev.initial, qFromB ? beamB : beamA,
                                             qFromB ? beamA : beamB, topCm, antitopCm);
  const HelicityAxes axes = helicityAxes(topCm.vec());
  const Vector3 basis[3] = {axes.k, axes.r, axes.n};

  // Decay channel: which top decays leptonically, e or mu, ud or cs.
  ev.leptonicTop = rng.uniform() < 0.5;
  const bool muon = rng.uniform() < 0.5;
  const bool cs = rng.uniform() < 0.5;
  const double leptonMass = muon ? constants::mMuon : constants::mElectron;
  const int leptonId = muon ? pdg::muon : pdg::electron;
  const double topAnalyserMass = ev.leptonicTop ? leptonMass : 0.0;
  const double antitopAnalyserMass = ev.leptonicTop ? 0.0 : leptonMass;

  // Decays with the spin correlation by accept-reject: with B = 0 the joint decay distribution is
  // (1 + alpha_t alpha_tbar a.C.b) x unpolarised, alpha_t = +1 (l+ or dbar), alpha_tbar = -1.
  TopDecay dt, dtb;
  for (;;) {
    dt = decayTop(p.m1, topAnalyserMass, rng, counters.overweights);
    dtb = decayTop(p.m2, antitopAnalyserMass, rng, counters.overweights);
    ++counters.decayTrials;
    if (!config_.spinCorrelations) break;
    const Vector3 a = dt.analyser.vec().unit(), b = dtb.analyser.vec().unit();
    double aCb = 0;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) aCb += a.dot(basis[i]) * ev.productionC[i][j] * b.dot(basis[j]);
    if (rng.uniform() * 2 < 1 - aCb) break;
  }
  // Top rest frames -> parton frame -> lab (the parton frame moves along z with rapidity y).
  const Vector3 toLab{0, 0, std::tanh(p.y)};
  auto lab = [&](const FourVector& x, const FourVector& parent) {
    return x.fromRestFrameOf(parent).boosted(toLab);
  };
  auto& P = ev.partons;
  P[static_cast<int>(Parton::b)] = lab(dt.b, topCm);
  P[static_cast<int>(Parton::bbar)] = lab(dtb.b, antitopCm);
  const FourVector tAnalyser = lab(dt.analyser, topCm), tPartner = lab(dt.partner, topCm);
  const FourVector tbAnalyser = lab(dtb.analyser, antitopCm),
                   tbPartner = lab(dtb.partner, antitopCm);
  const int upType = cs ? pdg::c : pdg::u, downType = cs ? pdg::s : pdg::d;
  if (ev.leptonicTop) {  // t -> b l+ nu, tbar -> bbar d ubar
    P[static_cast<int>(Parton::lepton)] = tAnalyser;
    P[static_cast<int>(Parton::neutrino)] = tPartner;
    P[static_cast<int>(Parton::quark)] = tbAnalyser;
    P[static_cast<int>(Parton::antiquark)] = tbPartner;
    ev.leptonPdg = -leptonId;
    ev.quarkPdg = downType;
    ev.antiquarkPdg = -upType;
  } else {  // t -> b u dbar, tbar -> bbar l- nubar
    P[static_cast<int>(Parton::lepton)] = tbAnalyser;
    P[static_cast<int>(Parton::neutrino)] = tbPartner;
    P[static_cast<int>(Parton::quark)] = tPartner;
    P[static_cast<int>(Parton::antiquark)] = tAnalyser;
    ev.leptonPdg = leptonId;
    ev.quarkPdg = upType;
    ev.antiquarkPdg = -downType;
  }
  P[static_cast<int>(Parton::wPlus)] = tAnalyser + tPartner;
  P[static_cast<int>(Parton::wMinus)] = tbAnalyser + tbPartner;
  P[static_cast<int>(Parton::top)] = topCm.boosted(toLab);
  P[static_cast<int>(Parton::antitop)] = antitopCm.boosted(toLab);
  P[static_cast<int>(Parton::ttbar)] =
      P[static_cast<int>(Parton::top)] + P[static_cast<int>(Parton::antitop)];
  if (config_.recoil) addRecoil(index, ev);
  return ev;
}

void TTbarGenerator::addRecoil(std::size_t index, TTbarEvent& ev) const {
  Rng rng(config_.seed, index, kIsrStream);
  auto& P = ev.partons;
  const FourVector before = P[static_cast<int>(Parton::ttbar)];
  ev.isr = isrModel_.sampleInitialState(before.m(), before.rapidity(), rng);
  // Same mass and rapidity, transverse momentum balancing the emissions; every parton goes
  // through the t tbar rest frame, so all rest-frame quantities (decay angles, spin analysers)
  // are those of the LO event.
  const double px = ev.isr.pairPx(), py = ev.isr.pairPy();
  const double mt = std::sqrt(before.m2() + px * px + py * py), y = before.rapidity();
  const FourVector after{px, py, mt * std::sinh(y), mt * std::cosh(y)};
  for (auto& p : P) p = p.inRestFrameOf(before).fromRestFrameOf(after);
}

TTbarSample generateTTbarEvents(const TTbarConfig& config, int threads) {
  TTbarSample out;
  out.events.reserve(config.nEvents);
  out.summary =
      generateTTbarChunks(
          config, threads, false, std::max<std::size_t>(config.nEvents, 1),
          [&](std::size_t, std::vector<TTbarEvent>& events) { out.events = std::move(events); })
          .summary;
  return out;
}

TTbarChunkedGeneration generateTTbarChunks(
    const TTbarConfig& config, int threads, bool showProgress, std::size_t chunkEvents,
    const std::function<void(std::size_t, std::vector<TTbarEvent>&)>& onChunk) {
  if (chunkEvents == 0) throw ConfigError("generate: the chunk size must be at least 1 event");
  const auto start = std::chrono::steady_clock::now();
  const TTbarGenerator gen(config);
  const std::size_t n = config.nEvents;
  TTbarChunkedGeneration out;
  TTbarSummary& s = out.summary;
  double sumW = 0, sumW2 = 0;  // in event order: independent of chunks and threads
  Progress progress("generate ttbar", n, showProgress);
  generateInChunks<TTbarEvent, TTbarCounters>(
      n, chunkEvents, threads, progress,
      [&](std::size_t index, TTbarCounters& c) { return gen.generate(index, c); },
      [&](std::size_t first, std::vector<TTbarEvent>& events,
          const std::vector<TTbarCounters>& counters) {
        for (const auto& c : counters) {
          s.hardTrials += c.hardTrials;
          s.overweightEvents += c.overweights;
          s.decayTrials += c.decayTrials;
          sumW += c.sumWeight;
          sumW2 += c.sumWeight2;
        }
        onChunk(first, events);
      });
  progress.finish();
  s.events = n;
  s.maxWeightPb = gen.maxWeightPb();
  const double nt = static_cast<double>(s.hardTrials);
  s.inclusiveCrossSectionPb = sumW / nt;
  s.inclusiveCrossSectionErrPb = std::sqrt(
      std::max(0.0, sumW2 / nt - s.inclusiveCrossSectionPb * s.inclusiveCrossSectionPb) / nt);
  s.branchingFactor = semileptonicFraction();
  s.crossSectionPb = s.inclusiveCrossSectionPb * s.branchingFactor;
  s.crossSectionErrPb = s.inclusiveCrossSectionErrPb * s.branchingFactor;
  // Unweighted events: each stands for an equal share of the cross section.
  out.weightsPb.assign(n, s.crossSectionPb / static_cast<double>(n));
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

double cosThetaStar(const FourVector& top, const FourVector& w, const FourVector& fermion) {
  const FourVector wTop = w.inRestFrameOf(top);
  const FourVector fW = fermion.inRestFrameOf(top).inRestFrameOf(wTop);
  return fW.vec().unit().dot(wTop.vec().unit());
}

}  // namespace nurec::generator::ttbar
