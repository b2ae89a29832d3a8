// `nurec mmc-pdfs --data truth.h5 --out data/mmc/mmc_pdfs_v1.json`: builds the MMC likelihood
// table P(dtheta | p_tau, type) and P(m_nunu) from a truth sample (docs/physics.md section 9,
// docs/reco.md) and writes it as a versioned JSON file with the binning and the producer.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "app/Command.hpp"
#include "nurec/Version.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/reco/AngularPdf.hpp"

namespace nurec::app {
namespace {

struct MmcPdfsOptions {
  std::string data, output;
  reco::AngularPdfConfig config;
};

int runMmcPdfs(const MmcPdfsOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  checkOutputPath("--out", o.output, OutputKind::File, {o.data});
  const OutputLock lock(o.output);
  const io::EventTable table = io::readEventFile(o.data);
  const std::vector<TruthEvent> truth = io::getTruth(table);
  const reco::AngularPdfTable pdfs = reco::AngularPdfTable::fromTruth(truth, o.config);
  std::string seed = "unknown", producer = "unknown", config;
  if (table.hasAttribute("seed")) seed = fmt::format("{}", table.numberAttribute("seed"));
  if (table.hasAttribute("producer")) producer = table.stringAttribute("producer");
  if (table.hasAttribute("config")) config = table.stringAttribute("config");
  const std::string source =
      fmt::format("{} ({} events, seed {}, made by {})", o.data, table.nEvents(), seed, producer);
  pdfs.save(o.output, std::string(kProducer) + " mmc-pdfs", source, config);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string counts;
  for (int t = 0; t < reco::kNumPdfTypes; ++t) {
    const auto type = static_cast<reco::PdfType>(t);
    counts += fmt::format("{}{} {}", t ? ", " : "", reco::pdfTypeName(type), pdfs.entries(type));
  }
  std::printf("mmc-pdfs: %zu events, taus per type [%s], 0 failures, %.1f s -> %s\n",
              table.nEvents(), counts.c_str(), seconds, o.output.c_str());
  return 0;
}

std::function<int()> setupMmcPdfs(CLI::App& cmd) {
  auto o = std::make_shared<MmcPdfsOptions>();
  cmd.footer(
      "For every truth tau: p_tau = |p(tau)|, dtheta = 3D angle between the neutrinos "
      "(/truth/nu_p4)\n"
      "and the visible products (/truth/vis_p4), type from /truth/decay_mode (pi, rho, other, e, "
      "mu).\n"
      "Histogrammed in (p_tau, u = dtheta p_tau/m_tau) with log-spaced p_tau slices, each "
      "normalised\n"
      "over u, so P(dtheta | p_tau) = P(u | p_tau) p_tau/m_tau; for leptonic taus also P(m_nunu).\n"
      "The MMC (`nurec reconstruct --method mmc`) loads the table at run time; the shipped one is\n"
      "data/mmc/mmc_pdfs_v1.json. Use a generator sample without detector effects (truth only).");
  cmd.add_option("--data", o->data, "Truth event file (nurec generate)")->required();
  cmd.add_option("--out", o->output, "Output table (JSON)")->required();
  cmd.add_option("--p-min", o->config.pTauMinGeV, "Lowest p_tau slice edge [GeV]");
  cmd.add_option("--p-max", o->config.pTauMaxGeV, "Highest p_tau slice edge [GeV]");
  cmd.add_option("--p-slices", o->config.pTauSlices, "Number of log-spaced p_tau slices");
  cmd.add_option("--u-max", o->config.uMax, "Upper end of u = dtheta p_tau/m_tau");
  cmd.add_option("--u-bins", o->config.uBins, "Number of u bins");
  cmd.add_option("--mass-bins", o->config.massBins, "Number of m_nunu bins on [0, m_tau]");
  cmd.add_option("--smooth", o->config.smoothPasses, "(1,2,1)/4 smoothing passes along u");
  cmd.add_option("--min-visible-pt", o->config.minVisiblePtGeV,
                 "Use only taus with visible pT above this [GeV]");
  return [o] { return runMmcPdfs(*o); };
}

const CommandRegistrar registrar({"mmc-pdfs", "Build the MMC likelihood table from a truth sample",
                                  45, setupMmcPdfs});

}  // namespace
}  // namespace nurec::app
