#pragma once
// The t tbar detector output in the event file (process "ttbar-semilep"; names and shapes in
// docs/data-format.md "t tbar"): jets, leptons, MET, the selection and the study's point cloud.
#include <vector>

#include "nurec/detector/ttbar/TTbarDetector.hpp"
#include "nurec/io/EventTable.hpp"

namespace nurec::detector::ttbar {

namespace ds {
inline constexpr const char* jetsP4 = "/reco/jets_p4";          // (N,J,4) f8 px, py, pz, E GeV
inline constexpr const char* jetsBTag = "/reco/jets_btag";      // (N,J) u1
inline constexpr const char* jetsParton = "/reco/jets_parton";  // (N,J) i1 truth label, -1 none
inline constexpr const char* nJets = "/reco/n_jets";            // (N) i4
inline constexpr const char* leptonsP4 = "/reco/leptons_p4";    // (N,2,4) f8
inline constexpr const char* leptonsPdg = "/reco/leptons_pdg";  // (N,2) i4, 0 = empty slot
inline constexpr const char* nLeptons = "/reco/n_leptons";      // (N) i4
inline constexpr const char* met = "/reco/met";                 // (N,2) f8 GeV
inline constexpr const char* sumEt = "/reco/sum_et";            // (N) f8 GeV
inline constexpr const char* selection = "/reco/selection";     // (N) i1 TTbarSelection
inline constexpr const char* passSelection = "/reco/pass_sr";   // (N) u1 selected
inline constexpr const char* particles = "/reco/particles";     // (N,21,12) f4 point cloud
inline constexpr const char* particlesMask = "/reco/particles_mask";  // (N,21) u1
}  // namespace ds

// Writes the /reco group of the events (replacing one that exists), the point cloud included.
// More leptons than the two slots: the two leading are stored, n_leptons keeps the count.
void putTTbarReco(io::EventTable& table, const std::vector<TTbarRecoEvent>& events, int maxJets);
// Reads it back (point cloud not needed); InputError naming the dataset and event on a missing or
// malformed column, non-finite values, counts outside their arrays or unknown selection codes.
std::vector<TTbarRecoEvent> getTTbarReco(const io::EventTable& table);

}  // namespace nurec::detector::ttbar
