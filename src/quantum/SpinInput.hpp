#pragma once
// What `nurec spin` and `nurec calibrate` read of an event file: only the datasets the spin
// analysers use, in chunks, and where nothing depends on the other rows only the signal-region
// rows (docs/data-format.md "Reading and writing in chunks").
#include <string>
#include <vector>

#include "nurec/io/EventFile.hpp"

namespace nurec::quantum {

// The datasets of `reader` the spin measurement of `method` can read: everything but the model's
// point cloud (/reco/particles), the recoil list, the /nu groups of other methods (their p4
// only, which names them in errors), and the decay-product lists unless truthAnalysers (method
// truth, the closure test and the calibration's re-weighting). The variations <method>_* and
// `variations` are kept.
std::vector<std::string> spinDatasets(const io::EventFileReader& reader, const std::string& method,
                                      const std::vector<std::string>& variations,
                                      bool truthAnalysers);

// Keeps the rows with /reco/pass_sr = 1, after checking every row of the chunk's /reco as a read
// without the selection would.
io::ChunkSelector signalRegionRows();

// A calibration sample (`nurec calibrate`, `nurec spin --calibration SAMPLE.h5`) as
// buildSpinResponse reads it: the spin datasets with the decay-product lists (the re-weighting
// uses the truth polarimeters), in chunks, of the signal-region rows unless allEvents or the file
// has no /reco/pass_sr. The fit does not depend on the other rows; *eventsInFile (if given)
// receives the file's row count, for the response's provenance.
io::EventTable readCalibrationSample(const std::string& path, const std::string& method,
                                     bool allEvents, std::size_t chunkEvents,
                                     std::size_t* eventsInFile = nullptr);

}  // namespace nurec::quantum
