#pragma once
// Model inputs and targets from an event table (docs/ml-methods.md section 1; data contract of
// /reco/particles in docs/data-format.md). Torch-free.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "nurec/io/EventTable.hpp"
#include "nurec/ml/Config.hpp"

namespace nurec::ml {

// Frame of the regression targets (train.target_frame; docs/ml-methods.md section 1, "Target
// frame"). Lab: the nu-system momentum / |p_vis| in the (canonically rotated) lab frame.
// Visible: per tau, the components of the nu-system momentum transverse to the visible tau in GeV
// along e1 = e2 x u and e2 = z x u / |z x u| (u the visible direction), and the component along u
// divided by |p_vis|. The visible frame turns with the event about z, so it needs no rotation.
enum class TargetFrame { Lab, Visible };
TargetFrame targetFrameFromName(const std::string& name);  // "lab" | "visible"; ConfigError else

// The three targets of one tau from its nu-system momentum nu (GeV, lab frame, before any
// canonical rotation) and its visible tau vis (px, py, pz, E). Lab frame: nu / |p_vis| (the
// caller rotates). vis must have |p| > 0.
std::array<double, 3> targetFromNeutrino(TargetFrame frame, const double* nu, const double* vis);
// The inverse: the lab-frame nu-system momentum (GeV) from one tau's targets y (un-normalised),
// its visible tau and the event's canonical rotation (undone for the lab frame).
std::array<double, 3> neutrinoFromTarget(TargetFrame frame, const double* y, const double* vis,
                                         double rotation);

// Per-event arrays, row-major. Targets (n, 6) are those of targetFromNeutrino for tau+ then tau-
// (docs/ml-methods.md section 1).
struct EventData {
  std::size_t n = 0;
  InputConfig inputs;  // which optional features follow the 13 of /reco/particles
  TargetFrame frame = TargetFrame::Lab;
  int features() const { return inputs.numFeatures(); }  // F
  std::vector<float> x;               // (n, P, F) raw features, padded slots zero
  std::vector<std::uint8_t> mask;     // (n, P)
  std::vector<std::int64_t> channel;  // (n) 0..6
  std::vector<float> target;          // (n, 6); empty when the table has no truth
  std::vector<double> visP;           // (n, 2) |p| of the visible tau+ and tau- (GeV)
  std::vector<double> visP4;          // (n, 2, 4) visible tau candidates (lab frame)
  std::vector<double> rotation;       // (n) azimuthal rotation applied to x and target (canonical)
  std::vector<std::size_t> row;       // row of each event in the source table
};

// Checks the reco inputs the diffusion model reads, for every event: /reco/channel in -1..6 (as
// the classical methods require), /reco/particles_mask 0 or 1, finite /reco/particles and
// /reco/tau_p4, finite /reco/met and a finite, non-negative /reco/sum_et when present. Throws
// InputError naming the file, dataset, event and value (docs/reliability.md).
void validateRecoInputs(const io::EventTable& table);

// Rows with a reconstructed channel (and pass_sr if required, and in `channels` if given).
std::vector<std::size_t> selectRows(const io::EventTable& table, bool requireSignalRegion,
                                    const std::vector<int>& channels);

// Reads /reco/particles, /reco/particles_mask, /reco/channel, /reco/tau_p4 (and /truth/nu_p4 if
// withTargets) for the given rows, plus /reco/track_ip and /reco/sum_et when `inputs` asks for
// them. canonical: rotate each event about z so that the leading visible tau has phi = 0
// (docs/ml-methods.md section 1). The FastMTT input (inputs.fastmtt) is computed for the given
// rows on `threads` threads (0 = all cores); the result does not depend on the count. Targets in
// `frame` (the canonical rotation turns lab-frame targets only). Throws InputError on missing or
// malformed datasets.
EventData buildEventData(const io::EventTable& table, const std::vector<std::size_t>& rows,
                         bool canonical, bool withTargets, const InputConfig& inputs = {},
                         int threads = 1, TargetFrame frame = TargetFrame::Lab);

// Rotates one event (F features per slot) about the beam axis by delta: phi -> wrap(phi + delta)
// and (px, py) -> R(px, py) for every valid slot, and the (px, py) of both targets (if target !=
// nullptr). The impact parameters and the activity are invariant under this rotation.
void rotateEvent(float* x, const std::uint8_t* mask, float* target, double delta,
                 int features = kNumFeatures);

// Normalisation constants from the training split (docs/ml-methods.md section 1).
// Rotation-covariant inputs keep mean 0 and one common scale (phi: scale 1, px and py: their joint
// rms), so that rotations commute with the normalisation; one-hot and charge are left unchanged.
struct NormStats {
  std::vector<float> xMean, xStd;  // F entries each
  std::array<float, kNumTargets> yMean{}, yStd{};
};
NormStats computeNormStats(const EventData& data, const std::vector<std::size_t>& trainIndices);
// The same in two steps, for data read in parts (ml/Trainer.cpp): the sums of some events (counts,
// sums and sums of squares, normSumsSize(inputs) of them), which add up over disjoint parts, and
// the constants from the sums of all training events. withTargets: the sums include targets.
std::size_t normSumsSize(const InputConfig& inputs);
std::vector<double> normSums(const EventData& data, const std::vector<std::size_t>& indices);
NormStats normStatsFromSums(const std::vector<double>& sums, const InputConfig& inputs,
                            bool withTargets);

double wrapPhi(double phi);  // to (-pi, pi]

}  // namespace nurec::ml
