#pragma once
// Classical neutrino reconstruction of a whole event table (`nurec reconstruct`, `nurec demo`).
#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "nurec/io/EventTable.hpp"
#include "nurec/reco/Collinear.hpp"
#include "nurec/reco/FastMtt.hpp"
#include "nurec/reco/ImpactParameterReco.hpp"
#include "nurec/reco/Mmc.hpp"
#include "nurec/reco/Status.hpp"

namespace nurec::reco {

struct ClassicalRecoConfig {
  CollinearConfig collinear;
  MmcConfig mmc;
  FastMttConfig fastMtt;
  ImpactParameterRecoConfig ip;
  std::uint64_t seed = 1;  // MMC random scan: Rng(seed, event index, streams::reco)
  bool progress = true;    // progress bar on stderr
  void validate() const;
};

// Reads /reco (io::getReco; NaN or malformed input throws InputError naming the dataset),
// reconstructs every event with method "collinear", "mmc", "fastmtt" or "ip" (needs
// /reco/track_ip: InputError naming it otherwise) and writes
// /nu/<method>/p4 (N,2,4), /nu/<method>/status (N, i1; RecoStatus) and /nu/<method>/mtautau
// (N, f8; 0 for failed events). The configuration is recorded in the table attribute
// reco_<method>_config. Results do not depend on `threads` (0 = all cores).
// mmcTable: the MMC likelihood table when already loaded (a file read in chunks loads it once);
// null = read config.mmc.pdfPath (or the shipped table) here.
void reconstructClassical(io::EventTable& table, const std::string& method,
                          const ClassicalRecoConfig& config, int threads,
                          std::shared_ptr<const AngularPdfTable> mmcTable = nullptr);

// The MMC likelihood table of the configuration (config.mmc.pdfPath, or the shipped one).
std::shared_ptr<const AngularPdfTable> loadMmcTable(const ClassicalRecoConfig& config);

// Counts of each RecoStatus in /nu/<method>/status.
std::array<std::int64_t, kNumStatusCodes> statusCounts(const io::EventTable& table,
                                                       const std::string& method);

std::string mtautauName(const std::string& method);  // "/nu/<method>/mtautau"

}  // namespace nurec::reco
