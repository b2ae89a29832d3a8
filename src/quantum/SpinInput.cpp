#include "nurec/quantum/SpinInput.hpp"

#include <algorithm>

#include "nurec/io/Schema.hpp"

namespace nurec::quantum {

std::vector<std::string> spinDatasets(const io::EventFileReader& reader, const std::string& method,
                                      const std::vector<std::string>& variations,
                                      bool truthAnalysers) {
  std::vector<std::string> out;
  for (const auto& [name, info] : reader.datasets()) {
    if (name == io::ds::recoParticles || name == io::ds::recoParticlesMask ||
        name == io::ds::recoilP4 || name == io::ds::recoilPdg)
      continue;
    // The decay-product lists (the largest datasets) feed only the truth-level analysers.
    if (!truthAnalysers && (name == io::ds::productsP4 || name == io::ds::productsPdg ||
                            name == io::ds::neutrinosEachP4 || name == io::ds::neutrinosEachPdg))
      continue;
    if (name.rfind("/nu/", 0) == 0) {
      const std::string rest = name.substr(4);
      const std::string m = rest.substr(0, rest.find('/'));
      const bool used = m == method || m.rfind(method + "_", 0) == 0 ||
                        std::find(variations.begin(), variations.end(), m) != variations.end();
      if (!used && name != io::nuP4Name(m)) continue;
    }
    out.push_back(name);
  }
  return out;
}

io::ChunkSelector signalRegionRows() {
  return [](const io::EventTable& chunk) {
    io::validateReco(chunk);  // every row is checked, as without the selection
    const auto pass = chunk.get<std::uint8_t>(io::ds::recoPassSr, {});
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < pass.size(); ++i)
      if (pass[i] != 0) rows.push_back(i);
    return rows;
  };
}

io::EventTable readCalibrationSample(const std::string& path, const std::string& method,
                                     bool allEvents, std::size_t chunkEvents,
                                     std::size_t* eventsInFile) {
  const io::EventFileReader reader(path);
  if (eventsInFile) *eventsInFile = reader.nEvents();
  const bool signalRegionOnly = !allEvents && reader.has(io::ds::recoPassSr);
  return io::readRowsInChunks(reader, spinDatasets(reader, method, {}, true), chunkEvents,
                              signalRegionOnly ? signalRegionRows() : io::ChunkSelector());
}

}  // namespace nurec::quantum
