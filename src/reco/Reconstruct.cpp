#include "nurec/reco/Reconstruct.hpp"

#include <fmt/format.h>

#include <memory>

#include "nurec/core/Error.hpp"
#include "nurec/core/Parallel.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::reco {

void ClassicalRecoConfig::validate() const {
  collinear.validate();
  mmc.validate();
  fastMtt.validate();
  ip.validate();
}

std::string mtautauName(const std::string& method) {
  return io::nuMassName(method);
}

std::shared_ptr<const AngularPdfTable> loadMmcTable(const ClassicalRecoConfig& config) {
  const std::string path = config.mmc.pdfPath.empty() ? defaultPdfPath() : config.mmc.pdfPath;
  return std::make_shared<const AngularPdfTable>(AngularPdfTable::load(path));
}

void reconstructClassical(io::EventTable& table, const std::string& method,
                          const ClassicalRecoConfig& config, int threads,
                          std::shared_ptr<const AngularPdfTable> mmcTable) {
  config.validate();
  if (method != "collinear" && method != "mmc" && method != "fastmtt" && method != "ip") {
    throw ConfigError(
        fmt::format("reconstructClassical: unknown method '{}' (expected collinear, "
                    "mmc, fastmtt or ip)",
                    method));
  }
  if (method == "ip" && !table.has(io::ds::recoTrackIp))
    throw InputError(fmt::format(
        "{}: --method ip needs dataset {} (track impact parameters: simulate events that carry "
        "generator vertex positions, e.g. from `nurec generate`)",
        table.source(), io::ds::recoTrackIp));
  const std::vector<RecoEvent> events = io::getReco(table);
  // The MMC table is read before any work starts, so a bad path fails at once.
  std::shared_ptr<const AngularPdfTable> pdfs = std::move(mmcTable);
  if (method == "mmc" && !pdfs) pdfs = loadMmcTable(config);
  const std::size_t n = events.size();
  io::NuEstimate nu;
  nu.p4.assign(n, {});
  nu.status.assign(n, static_cast<std::int8_t>(RecoStatus::NotReconstructed));
  std::vector<double> mtt(n, 0.0);
  Progress progress("reconstruct " + method, n, config.progress);
  auto store = [&](std::size_t i, RecoStatus s, const std::array<FourVector, 2>& p, double m) {
    nu.status[i] = static_cast<std::int8_t>(s);
    if (s == RecoStatus::Ok) {
      nu.p4[i] = p;
      mtt[i] = m;
    }
  };
  // Every deterministic method: reconstructor.reconstruct(event) -> {status, nu, mTauTau}.
  auto runAll = [&](const auto& reco) {
    parallelFor(n, threads, [&](std::size_t i) {
      const auto r = reco.reconstruct(events[i]);
      store(i, r.status, r.nu, r.mTauTau);
      progress.advance();
    });
  };
  std::string describe;
  if (method == "collinear") {
    describe = fmt::format("min_abs_sin_dphi={} max_x={}", config.collinear.minAbsSinDeltaPhi,
                           config.collinear.maxX);
    runAll(CollinearReconstructor(config.collinear));
  } else if (method == "fastmtt") {
    describe = config.fastMtt.describe();
    runAll(FastMttReconstructor(config.fastMtt));
  } else if (method == "ip") {
    describe = config.ip.describe();
    runAll(ImpactParameterReconstructor(config.ip));
  } else {
    const MmcReconstructor reco(config.mmc, pdfs);
    describe = config.mmc.describe() + " seed=" + std::to_string(config.seed);
    parallelFor(n, threads, [&](std::size_t i) {
      Rng rng(config.seed, table.firstRow() + i, streams::reco);  // the event's index in its file
      const MmcResult r = reco.reconstruct(events[i], rng);
      store(i, r.status, r.nu, r.mTauTau);
      progress.advance();
    });
  }
  progress.finish();
  io::putNu(table, method, nu);
  table.set(mtautauName(method), {}, std::move(mtt));
  table.setAttribute("reco_" + method + "_config", describe);
}

std::array<std::int64_t, kNumStatusCodes> statusCounts(const io::EventTable& table,
                                                       const std::string& method) {
  std::array<std::int64_t, kNumStatusCodes> counts{};
  const auto status = table.get<std::int8_t>(io::nuStatusName(method), {});
  for (const auto s : status) {
    if (s < 0 || s >= kNumStatusCodes) {
      throw InputError(fmt::format("{}: dataset {} holds unknown status {}", table.source(),
                                   io::nuStatusName(method), static_cast<int>(s)));
    }
    ++counts[s];
  }
  return counts;
}

}  // namespace nurec::reco
