// nurec as a library: read a simulated event file, reconstruct the neutrinos with the MMC and
// the shipped diffusion model, print the median m_tautau of each and write the result.
//   nurec_example_reconstruct sim.h5 [out.h5]
// The same as `nurec reconstruct sim.h5 --method mmc,diffusion --out out.h5`, in a dozen calls.
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "nurec/core/Error.hpp"
#include "nurec/core/FourVector.hpp"
#include "nurec/core/Statistics.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/ml/Api.hpp"
#include "nurec/reco/Reconstruct.hpp"

namespace {

// m_tautau of every successfully reconstructed event: visible tau + neutrinos, both taus.
std::vector<double> tauPairMasses(const nurec::io::EventTable& table, const std::string& method) {
  const auto visible = table.get<double>(nurec::io::ds::recoTauP4, {2, 4});
  const auto nu = table.get<double>(nurec::io::nuP4Name(method), {2, 4}, false);
  const auto status = table.get<std::int8_t>(nurec::io::nuStatusName(method), {});
  std::vector<double> masses;
  for (std::size_t i = 0; i < table.nEvents(); ++i) {
    if (status[i] != 0) continue;
    nurec::FourVector pair;
    for (int tau = 0; tau < 2; ++tau) {
      const double* v = &visible[(i * 2 + tau) * 4];
      const double* n = &nu[(i * 2 + tau) * 4];
      pair = pair + nurec::FourVector(v[0] + n[0], v[1] + n[1], v[2] + n[2], v[3] + n[3]);
    }
    if (std::isfinite(pair.m())) masses.push_back(pair.m());
  }
  return masses;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s sim.h5 [out.h5]\n", argv[0]);
    return 2;
  }
  try {
    nurec::io::EventTable table = nurec::io::readEventFile(argv[1]);

    nurec::reco::ClassicalRecoConfig mmc;
    mmc.progress = false;
    nurec::reco::reconstructClassical(table, "mmc", mmc, /*threads=*/1);

    nurec::ml::DiffusionReconstructOptions diffusion;
    diffusion.modelDir = nurec::ml::defaultModelDirectory();  // found next to the libraries
    diffusion.threads = 1;
    std::printf("model: %s\n", diffusion.modelDir.c_str());
    nurec::ml::reconstructDiffusion(table, diffusion);

    for (const std::string method : {"mmc", "diffusion"}) {
      const auto m = tauPairMasses(table, method);
      std::printf("%-9s %zu of %zu events reconstructed, median m_tautau %.2f GeV\n",
                  method.c_str(), m.size(), table.nEvents(), nurec::median(m));
    }
    if (argc == 3) nurec::io::writeEventFile(argv[2], table);
  } catch (const nurec::Error& e) {  // every nurec error names what was wrong
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected error: %s\n", e.what());
    return 1;
  }
  return 0;
}
