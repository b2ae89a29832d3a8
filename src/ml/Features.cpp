#include "nurec/ml/Features.hpp"

#include <cmath>
#include <string>

#include "nurec/core/Error.hpp"
#include "nurec/core/FourVector.hpp"
#include "nurec/core/ImpactParameter.hpp"
#include "nurec/core/Parallel.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/reco/FastMtt.hpp"

namespace nurec::ml {

double wrapPhi(double phi) {
  const double twoPi = 2 * constants::pi;
  double r = std::fmod(phi + constants::pi, twoPi);
  if (r <= 0) r += twoPi;
  return r - constants::pi;
}

TargetFrame targetFrameFromName(const std::string& name) {
  if (name == "lab") return TargetFrame::Lab;
  if (name == "visible") return TargetFrame::Visible;
  throw ConfigError("target frame '" + name + "' (expected lab or visible)");
}

namespace {

// Orthonormal (e1, e2, u) of a visible tau (docs/ml-methods.md section 1, "Target frame"):
// right-handed, e2 along the azimuthal direction z x u. A visible tau along the beam (never in a
// selected event) takes e2 = y.
struct VisibleAxes {
  std::array<double, 3> e1, e2, u;
  double p;
};

VisibleAxes visibleAxes(const double* vis) {
  VisibleAxes a{};
  a.p = std::sqrt(vis[0] * vis[0] + vis[1] * vis[1] + vis[2] * vis[2]);
  a.u = {vis[0] / a.p, vis[1] / a.p, vis[2] / a.p};
  const double t = std::hypot(a.u[0], a.u[1]);
  a.e2 = t > 1e-12 ? std::array<double, 3>{-a.u[1] / t, a.u[0] / t, 0.0}
                   : std::array<double, 3>{0.0, 1.0, 0.0};
  a.e1 = {a.e2[1] * a.u[2] - a.e2[2] * a.u[1], a.e2[2] * a.u[0] - a.e2[0] * a.u[2],
          a.e2[0] * a.u[1] - a.e2[1] * a.u[0]};
  return a;
}

double dot(const std::array<double, 3>& a, const double* b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
double dot(const std::array<double, 3>& a, const Vector3& b) {
  return a[0] * b.x + a[1] * b.y + a[2] * b.z;
}

}  // namespace

std::array<double, 3> targetFromNeutrino(TargetFrame frame, const double* nu, const double* vis) {
  const VisibleAxes a = visibleAxes(vis);
  if (frame == TargetFrame::Lab) return {nu[0] / a.p, nu[1] / a.p, nu[2] / a.p};
  return {dot(a.e1, nu), dot(a.e2, nu), dot(a.u, nu) / a.p};
}

std::array<double, 3> neutrinoFromTarget(TargetFrame frame, const double* y, const double* vis,
                                         double rotation) {
  const VisibleAxes a = visibleAxes(vis);
  if (frame == TargetFrame::Lab) {
    // Back from the canonical frame: rotate by -rotation about z.
    const double c = std::cos(-rotation), s = std::sin(-rotation);
    const double px = y[0] * a.p, py = y[1] * a.p;
    return {c * px - s * py, s * px + c * py, y[2] * a.p};
  }
  std::array<double, 3> nu{};
  for (int j = 0; j < 3; ++j) nu[j] = y[0] * a.e1[j] + y[1] * a.e2[j] + y[2] * a.p * a.u[j];
  return nu;
}

void validateRecoInputs(const io::EventTable& table) {
  // The checks every method runs (channel, tau types, finite MET, sum_et >= 0, mask 0/1), then
  // the point cloud the model reads, which the classical methods do not need.
  io::validateReco(table);
  table.get<float>(io::ds::recoParticles, {kNumSlots, kNumFeatures});
  table.get<std::uint8_t>(io::ds::recoParticlesMask, {kNumSlots});
}

std::vector<std::size_t> selectRows(const io::EventTable& table, bool requireSignalRegion,
                                    const std::vector<int>& channels) {
  const auto channel = table.get<std::int8_t>(io::ds::recoChannel, {});
  std::vector<std::uint8_t> sr;
  if (requireSignalRegion) sr = table.get<std::uint8_t>(io::ds::recoPassSr, {});
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < table.nEvents(); ++i) {
    const int c = channel[i];
    if (c < 0 || c >= kNumChannels) continue;
    if (requireSignalRegion && !sr[i]) continue;
    if (!channels.empty()) {
      bool keep = false;
      for (int w : channels) keep = keep || w == c;
      if (!keep) continue;
    }
    rows.push_back(i);
  }
  return rows;
}

void rotateEvent(float* x, const std::uint8_t* mask, float* target, double delta, int features) {
  const double c = std::cos(delta), s = std::sin(delta);
  for (int p = 0; p < kNumSlots; ++p) {
    if (!mask[p]) continue;
    float* f = x + p * features;
    f[feat::phi] = static_cast<float>(wrapPhi(f[feat::phi] + delta));
    const double px = f[feat::px], py = f[feat::py];
    f[feat::px] = static_cast<float>(c * px - s * py);
    f[feat::py] = static_cast<float>(s * px + c * py);
  }
  if (target) {
    for (int k = 0; k < 2; ++k) {
      const double px = target[3 * k], py = target[3 * k + 1];
      target[3 * k] = static_cast<float>(c * px - s * py);
      target[3 * k + 1] = static_cast<float>(s * px + c * py);
    }
  }
}

namespace {

// The optional inputs of docs/ml-methods.md section 1, for one table: read once, appended per
// event.
struct ExtraInputs {
  InputConfig config;
  std::vector<double> trackIp;               // (N, 2, 4): d0, z0, sigma_d0, sigma_z0 in mm
  std::vector<double> sumEt;                 // (N) GeV
  std::vector<reco::FastMttResult> fastMtt;  // (N), run for events with a channel

  ExtraInputs(const io::EventTable& table, const std::vector<std::size_t>& rows,
              const InputConfig& inputs, int threads)
      : config(inputs) {
    const std::string src = table.source().empty() ? std::string("event table") : table.source();
    if (inputs.impactParameters) {
      if (!table.has(io::ds::recoTrackIp)) {
        throw InputError(src +
                         ": the model reads track impact parameters (inputs.impact_parameters)"
                         " but the file has no " +
                         std::string(io::ds::recoTrackIp) +
                         " (simulate events whose truth has vertex positions)");
      }
      trackIp = table.get<double>(io::ds::recoTrackIp, {2, 4});
    }
    if (inputs.activity) {
      if (!table.has(io::ds::recoSumEt)) {
        throw InputError(src +
                         ": the model reads the event activity (inputs.activity) but the "
                         "file has no " +
                         std::string(io::ds::recoSumEt));
      }
      sumEt = table.get<double>(io::ds::recoSumEt, {});
    }
    if (inputs.fastMtt) {
      // The classical baseline is computed here, not read from /nu/fastmtt, so that a model never
      // depends on how (or whether) a user ran FastMTT before it (0.17 ms per event). Only the
      // requested rows, on the caller's threads: each event's result depends on it alone.
      const std::vector<RecoEvent> events = io::getReco(table);
      const reco::FastMttReconstructor fastMttReco(reco::FastMttConfig{});
      fastMtt.resize(events.size());
      parallelFor(rows.size(), threads, [&](std::size_t i) {
        const std::size_t r = rows[i];
        if (events[r].channel != Channel::None) fastMtt[r] = fastMttReco.reconstruct(events[r]);
      });
    }
  }

  // Fills the extra features of event row r into x (P slots of F features, base features set).
  void fill(std::size_t r, float* x, const std::uint8_t* mask, int F) const {
    if (config.impactParameters) {
      const int i0 = config.impactParameterIndex();
      // The tau candidates' tracks sit in slots 0 (tau+) and 2 (tau-) (docs/data-format.md).
      for (int k = 0; k < 2; ++k) {
        const int slot = 2 * k;
        if (!mask[slot]) continue;
        const double* ip = &trackIp[(r * 2 + k) * 4];
        float* f = x + slot * F + i0;
        // asinh keeps the sign and the Gaussian core while taming the exponential tail of long
        // flights; 0.1 mm is the order of the tau's flight-induced impact parameter.
        f[0] = static_cast<float>(std::asinh(ip[0] / 0.1));
        f[1] = static_cast<float>(std::asinh(ip[1] / 0.1));
        f[2] = static_cast<float>(ip[2] > 0 ? std::asinh(ip[0] / ip[2]) : 0.0);
        f[3] = static_cast<float>(ip[3] > 0 ? std::asinh(ip[1] / ip[3]) : 0.0);
      }
    }
    if (config.activity) {
      const int slot = kNumSlots - 1;  // MET token
      // Relative to 200 GeV, the typical sum E_T of the signal region, so that it is centred.
      x[slot * F + config.activityIndex()] =
          static_cast<float>(std::log(std::max(sumEt[r], 1.0) / 200.0));
    }
    if (config.fastMtt) {
      const reco::FastMttResult& fm = fastMtt[r];
      if (fm.status != reco::RecoStatus::Ok || !(fm.mTauTau > 0)) return;  // absent: zeros
      const int i0 = config.fastMttIndex();
      for (int k = 0; k < 2; ++k) {
        if (mask[2 * k] && fm.x[k] > 0) x[2 * k * F + i0] = static_cast<float>(-std::log(fm.x[k]));
      }
      float* met = x + (kNumSlots - 1) * F;
      met[i0 + 1] = static_cast<float>(std::log(fm.mTauTau / 100.0));
      met[i0 + 2] = static_cast<float>(fm.mTauTauSigma / fm.mTauTau);
    }
  }

  // The visible-frame geometry (docs/ml-methods.md section 1, "Visible-frame inputs") of event row
  // r, from the lab-frame base features and the row's visible taus tau (2 x (px, py, pz, E)).
  void fillVisibleFrame(std::size_t r, float* x, const std::uint8_t* mask, int F,
                        const double* tau) const {
    if (!config.visibleFrame) return;
    const int i0 = config.visibleFrameIndex();
    for (int k = 0; k < 2; ++k) {
      const int slot = 2 * k;
      if (!mask[slot]) continue;
      const VisibleAxes a = visibleAxes(tau + 4 * k);
      float* f = x + slot * F;
      const Vector3 track = FourVector::fromPtEtaPhiM(std::exp(static_cast<double>(f[feat::logPt])),
                                                      f[feat::eta], f[feat::phi], 0.0)
                                .vec();
      f[i0] = static_cast<float>(dot(a.e1, track));
      f[i0 + 1] = static_cast<float>(dot(a.e2, track));
      if (!config.impactParameters) continue;
      const double* ip = &trackIp[(r * 2 + k) * 4];
      const Vector3 d = impactParameterVector({ip[0], ip[1]}, track);
      // The tau direction leans from the track towards +d (docs/reco.md, "Impact-parameter
      // method"); 0.1 mm as for d0 and z0.
      f[i0 + 2] = static_cast<float>(std::asinh(dot(a.e1, d) / 0.1));
      f[i0 + 3] = static_cast<float>(std::asinh(dot(a.e2, d) / 0.1));
    }
  }
};

}  // namespace

EventData buildEventData(const io::EventTable& table, const std::vector<std::size_t>& rows,
                         bool canonical, bool withTargets, const InputConfig& inputs, int threads,
                         TargetFrame frame) {
  const std::size_t P = kNumSlots, F0 = kNumFeatures;
  const auto F = static_cast<std::size_t>(inputs.numFeatures());
  const ExtraInputs extra(table, rows, inputs, threads);
  const auto particles = table.get<float>(io::ds::recoParticles, {P, F0});
  const auto mask = table.get<std::uint8_t>(io::ds::recoParticlesMask, {P});
  const auto channel = table.get<std::int8_t>(io::ds::recoChannel, {});
  const auto tau = table.get<double>(io::ds::recoTauP4, {2, 4});
  std::vector<double> nu;
  if (withTargets) nu = table.get<double>(io::ds::nuP4, {2, 4});
  EventData d;
  d.n = rows.size();
  d.inputs = inputs;
  d.frame = frame;
  d.x.assign(d.n * P * F, 0.0f);
  d.mask.resize(d.n * P);
  d.channel.resize(d.n);
  d.visP.resize(d.n * 2);
  d.visP4.resize(d.n * 8);
  d.rotation.assign(d.n, 0.0);
  d.row = rows;
  if (withTargets) d.target.resize(d.n * kNumTargets);
  const std::string src = table.source().empty() ? std::string("event table") : table.source();
  for (std::size_t e = 0; e < d.n; ++e) {
    const std::size_t r = rows[e];
    if (r >= table.nEvents()) throw InputError(src + ": row index out of range");
    const int ch = channel[r];
    if (ch < 0 || ch >= kNumChannels) {
      throw InputError(src + ": event " + std::to_string(r) + " has no reconstructed channel");
    }
    d.channel[e] = ch;
    bool metPresent = false;
    for (std::size_t p = 0; p < P; ++p) {
      const bool valid = mask[r * P + p] != 0;
      d.mask[e * P + p] = valid ? 1 : 0;
      for (std::size_t f = 0; f < F0; ++f) {
        d.x[(e * P + p) * F + f] = valid ? particles[(r * P + p) * F0 + f] : 0.0f;
      }
      if (valid && particles[(r * P + p) * F0 + feat::typeMet] > 0.5f) metPresent = true;
    }
    extra.fill(r, &d.x[e * P * F], &d.mask[e * P], static_cast<int>(F));
    extra.fillVisibleFrame(r, &d.x[e * P * F], &d.mask[e * P], static_cast<int>(F), &tau[r * 8]);
    if (!metPresent) {
      throw InputError(src + ": /reco/particles of event " + std::to_string(r) +
                       " has no valid MET token (expected one-hot type MET, slot 9)");
    }
    double pt[2];
    for (int k = 0; k < 2; ++k) {
      const double* v = &tau[r * 8 + k * 4];
      for (int c = 0; c < 4; ++c) d.visP4[e * 8 + k * 4 + c] = v[c];
      const double p = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
      pt[k] = std::hypot(v[0], v[1]);
      if (!(p > 0)) {
        throw InputError(src + ": /reco/tau_p4 of selected event " + std::to_string(r) +
                         " has zero momentum");
      }
      d.visP[e * 2 + k] = p;
      if (withTargets) {
        const std::array<double, 3> y = targetFromNeutrino(frame, &nu[r * 8 + k * 4], v);
        for (int c = 0; c < 3; ++c)
          d.target[e * kNumTargets + 3 * k + c] = static_cast<float>(y[c]);
      }
    }
    if (canonical) {
      const int lead = pt[0] >= pt[1] ? 0 : 1;
      const double* v = &tau[r * 8 + lead * 4];
      const double delta = -std::atan2(v[1], v[0]);
      d.rotation[e] = delta;
      const bool rotateTargets = withTargets && frame == TargetFrame::Lab;
      rotateEvent(&d.x[e * P * F], &d.mask[e * P],
                  rotateTargets ? &d.target[e * kNumTargets] : nullptr, delta, d.features());
    }
  }
  return d;
}

// Layout of the sums: logPt, eta, logE: (n, sum, sum2) each; every optional input: (n, sum2);
// px and py together: (n, sum2); each tau's target: (n, sum of x^2 + y^2, sum z, sum z^2).
std::size_t normSumsSize(const InputConfig& inputs) {
  return 9 + 2 * static_cast<std::size_t>(inputs.numFeatures() - kNumFeatures) + 2 + 8;
}

std::vector<double> normSums(const EventData& data, const std::vector<std::size_t>& indices) {
  std::vector<double> out(normSumsSize(data.inputs), 0.0);
  std::size_t o = 0;
  const std::size_t P = kNumSlots, F = static_cast<std::size_t>(data.features());
  // Continuous, rotation-invariant inputs: mean and std over valid slots.
  for (int f : {feat::logPt, feat::eta, feat::logE}) {
    double n = 0, sum = 0, sum2 = 0;
    for (std::size_t e : indices) {
      for (std::size_t p = 0; p < P; ++p) {
        if (!data.mask[e * P + p]) continue;
        const double v = data.x[(e * P + p) * F + f];
        n += 1;
        sum += v;
        sum2 += v * v;
      }
    }
    out[o++] = n;
    out[o++] = sum;
    out[o++] = sum2;
  }
  for (int f = kNumFeatures; f < data.features(); ++f) {
    const std::vector<std::size_t> slots =
        data.inputs.onMetSlot(f) ? std::vector<std::size_t>{P - 1} : std::vector<std::size_t>{0, 2};
    double n = 0, sum2 = 0;
    for (std::size_t e : indices) {
      for (std::size_t p : slots) {
        if (!data.mask[e * P + p]) continue;
        const double v = data.x[(e * P + p) * F + f];
        n += 1;
        sum2 += v * v;
      }
    }
    out[o++] = n;
    out[o++] = sum2;
  }
  {
    double n = 0, sum2 = 0;
    for (std::size_t e : indices) {
      for (std::size_t p = 0; p < P; ++p) {
        if (!data.mask[e * P + p]) continue;
        for (int f : {feat::px, feat::py}) {
          const double v = data.x[(e * P + p) * F + f];
          sum2 += v * v;
          n += 1;
        }
      }
    }
    out[o++] = n;
    out[o++] = sum2;
  }
  for (int k = 0; k < 2; ++k) {
    double n = 0, sxy2 = 0, sz = 0, sz2 = 0;
    if (!data.target.empty()) {
      for (std::size_t e : indices) {
        const float* y = &data.target[e * kNumTargets + 3 * k];
        sxy2 += double(y[0]) * y[0] + double(y[1]) * y[1];
        sz += y[2];
        sz2 += double(y[2]) * y[2];
        n += 1;
      }
    }
    out[o++] = n;
    out[o++] = sxy2;
    out[o++] = sz;
    out[o++] = sz2;
  }
  return out;
}

NormStats normStatsFromSums(const std::vector<double>& sums, const InputConfig& inputs,
                            bool withTargets) {
  if (sums.size() != normSumsSize(inputs))
    throw Error("internal: normalisation sums of wrong size");
  NormStats s;
  const int F = inputs.numFeatures();
  s.xMean.assign(F, 0.0f);
  s.xStd.assign(F, 1.0f);
  for (int c = 0; c < kNumTargets; ++c) {
    s.yMean[c] = 0;
    s.yStd[c] = 1;
  }
  std::size_t o = 0;
  for (int f : {feat::logPt, feat::eta, feat::logE}) {
    const double n = sums[o], sum = sums[o + 1], sum2 = sums[o + 2];
    o += 3;
    if (n > 1) {
      const double mean = sum / n;
      const double var = std::max(sum2 / n - mean * mean, 1e-12);
      s.xMean[f] = static_cast<float>(mean);
      s.xStd[f] = static_cast<float>(std::sqrt(var));
    }
  }
  // The optional inputs live on a few slots and are 0 elsewhere: mean 0 and their rms over the
  // slots that carry them, so that "absent" stays 0 after normalisation (a subtracted mean would
  // turn every other slot into a large constant input).
  for (int f = kNumFeatures; f < F; ++f) {
    const double n = sums[o], sum2 = sums[o + 1];
    o += 2;
    if (n > 0 && sum2 > 0) s.xStd[f] = static_cast<float>(std::sqrt(sum2 / n));
  }
  {  // px, py: mean 0, one joint rms
    const double n = sums[o], sum2 = sums[o + 1];
    o += 2;
    if (n > 0 && sum2 > 0) {
      s.xStd[feat::px] = s.xStd[feat::py] = static_cast<float>(std::sqrt(sum2 / n));
    }
  }
  if (withTargets) {
    for (int k = 0; k < 2; ++k) {
      const double n = sums[o], sxy2 = sums[o + 1], sz = sums[o + 2], sz2 = sums[o + 3];
      o += 4;
      if (n > 1) {
        const double rmsXy = std::sqrt(std::max(sxy2 / (2 * n), 1e-12));
        const double mz = sz / n;
        const double sdz = std::sqrt(std::max(sz2 / n - mz * mz, 1e-12));
        s.yStd[3 * k] = s.yStd[3 * k + 1] = static_cast<float>(rmsXy);
        s.yMean[3 * k + 2] = static_cast<float>(mz);
        s.yStd[3 * k + 2] = static_cast<float>(sdz);
      }
    }
  }
  return s;
}

NormStats computeNormStats(const EventData& data, const std::vector<std::size_t>& trainIndices) {
  return normStatsFromSums(normSums(data, trainIndices), data.inputs, !data.target.empty());
}

}  // namespace nurec::ml
