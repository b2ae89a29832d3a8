#pragma once
// t tbar events as tensors for the unfolding models (docs/ml-unfold.md "Inputs"): the point cloud
// /reco/particles (21 slots x 12 features) and its mask, the global inputs from /reco/met and
// /reco/sum_et, and (training) the parton record /truth/partons. Only src/ml/ includes this header.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nurec/io/EventTable.hpp"
#include "nurec/ml/unfold/UnfoldNet.hpp"

namespace nurec::ml::unfold {

struct EventTensors {
  torch::Tensor particles, mask, global;  // (N,21,12) f32, (N,21) bool, (N,3) f32
  torch::Tensor partons;                  // (N,55) f32 in GeV; undefined without targets
  std::vector<std::size_t> rows;          // each event's row in the file
  std::string source;

  std::int64_t size() const { return particles.defined() ? particles.size(0) : 0; }
  EventTensors select(const torch::Tensor& index) const;  // int64 indices
  EventTensors select(const std::vector<std::int64_t>& index) const;
  // Events [first, first + count) as a batch, with the given normalised targets (may be undefined).
  Batch batch(std::int64_t first, std::int64_t count, const torch::Tensor& normalisedPartons) const;
};

// The datasets the models read, and the target.
const std::vector<std::string>& inputDatasets();
inline constexpr const char* kTargetDataset = "/truth/partons";
inline constexpr const char* kSelectionDataset = "/reco/pass_sr";

// Rows of `table` with /reco/pass_sr = 1 (the first maxEvents of them; 0 = all) as tensors.
// InputError naming the file and dataset when a dataset is missing or malformed, a value is not
// finite, or the file is not a t tbar file.
EventTensors selectedEvents(const io::EventTable& table, std::int64_t maxEvents, bool withTargets);
// The same, reading the file in chunks (only the needed datasets of the selected rows are kept).
EventTensors readSelectedEvents(const std::string& path, std::int64_t maxEvents, bool withTargets,
                                std::size_t chunkEvents);
// Every row of the table (for reconstruction; targets are not read).
EventTensors allEvents(const io::EventTable& table);

// The canonical azimuthal frame (docs/ml-unfold.md "Azimuth"). The event is rotated about the beam
// axis by delta = -phi of its lepton (point-cloud slot 0; 0 when the slot is empty): the phi, px
// and py features of the present slots, the MET inputs and, when present, the parton record. The
// physics does not depend on the absolute azimuth, so the models need not learn it.
struct FramedEvents {
  EventTensors events;  // in the lepton frame
  torch::Tensor delta;  // (N) f64, the angle each event was rotated by
};
FramedEvents inLeptonFrame(const EventTensors& events);
// Parton records (N, ..., 55) rotated about the beam axis by angle (N) f64: px, py of every parton.
// With -delta it takes samples from the lepton frame back to the lab.
torch::Tensor rotateRecords(const torch::Tensor& records, const torch::Tensor& angle);

}  // namespace nurec::ml::unfold
