#pragma once
// Per-event status codes of the classical reconstructions, stored in /nu/<method>/status (i1).
// 0 is success; every other value is a documented failure (docs/reco.md). Failed events carry
// zero four-vectors in /nu/<method>/p4 and 0 in /nu/<method>/mtautau.
#include <cstdint>

namespace nurec::reco {

enum class RecoStatus : std::int8_t {
  Ok = 0,
  NotReconstructed = 1,  // no analysis channel (channel -1) or a missing visible tau candidate
  InvalidInput = 2,      // NaN/inf or unphysical visible four-vector (E < |p|) in the input
  BackToBack = 3,        // collinear: visible taus back to back in phi, |sin dphi| too small
  UnphysicalX = 4,       // collinear: a visible energy fraction x outside (0, 1]
  NoSolution = 5,        // MMC: no scan point with a solution of non-zero weight
  NoLikelihood = 6,      // FastMTT: the likelihood vanishes on the whole (x1, x2) grid
};
inline constexpr int kNumStatusCodes = 7;

const char* statusName(RecoStatus s);  // "ok", "not-reconstructed", ...

}  // namespace nurec::reco
