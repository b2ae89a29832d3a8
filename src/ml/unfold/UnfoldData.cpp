#include "nurec/ml/unfold/UnfoldData.hpp"

#include <cmath>
#include <map>

#include "nurec/core/Error.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/ml/Resources.hpp"

namespace nurec::ml::unfold {

namespace {

using io::kTTbarProcess;  // docs/data-format.md "Processes"
// Bytes held per selected event: inputs, mask, targets, and the copies of a split.
constexpr double kBytesPerEvent = 2.5 * (kSlots * kFeatures * 4 + kSlots + 3 * 4 + kRecordSize * 4);

void requireTTbar(const std::map<std::string, io::AttributeValue>& attributes,
                  const std::string& source) {
  const std::string process = io::processOf(attributes, source);
  if (process != kTTbarProcess) {
    throw InputError(source + ": a '" + process +
                     "' file; the unfolding models read t tbar files (process '" + kTTbarProcess +
                     "', written by `nurec simulate` of `nurec generate --process ttbar-semilep`)");
  }
}

template <class T>
torch::Tensor fromVector(std::vector<T> values, std::vector<std::int64_t> shape,
                         torch::ScalarType type) {
  return torch::from_blob(values.data(), shape, type).clone();
}

// Tensors of every row of the table.
EventTensors toTensors(const io::EventTable& t, bool withTargets) {
  requireTTbar(t.attributes(), t.source());
  const auto n = static_cast<std::int64_t>(t.nEvents());
  EventTensors e;
  e.source = t.source();
  e.particles = fromVector(t.get<float>("/reco/particles", {kSlots, kFeatures}),
                           {n, kSlots, kFeatures}, torch::kFloat32);
  e.mask =
      fromVector(t.get<std::uint8_t>("/reco/particles_mask", {kSlots}), {n, kSlots}, torch::kUInt8)
          .to(torch::kBool);
  const auto met = t.get<double>("/reco/met", {2});
  const auto sumEt = t.get<double>("/reco/sum_et", {});
  std::vector<float> global(static_cast<std::size_t>(n) * kGlobalInputs);
  for (std::int64_t i = 0; i < n; ++i) {
    // The MET on the scale of the point cloud (50 GeV) and the activity that sets its resolution.
    global[i * 3 + 0] = static_cast<float>(met[i * 2] / 50.0);
    global[i * 3 + 1] = static_cast<float>(met[i * 2 + 1] / 50.0);
    global[i * 3 + 2] = static_cast<float>(std::log(std::max(sumEt[i], 1.0) / 200.0));
  }
  e.global = fromVector(std::move(global), {n, kGlobalInputs}, torch::kFloat32);
  if (withTargets) {
    e.partons = fromVector(t.get<double>(kTargetDataset, {kPartons, kComponents}), {n, kRecordSize},
                           torch::kFloat64)
                    .to(torch::kFloat32);
  }
  e.rows.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) e.rows[i] = t.firstRow() + static_cast<std::size_t>(i);
  return e;
}

std::vector<std::string> datasetsFor(bool withTargets) {
  std::vector<std::string> d = inputDatasets();
  if (withTargets) d.push_back(kTargetDataset);
  return d;
}

}  // namespace

const std::vector<std::string>& inputDatasets() {
  static const std::vector<std::string> d{"/reco/particles", "/reco/particles_mask", "/reco/met",
                                          "/reco/sum_et"};
  return d;
}

EventTensors EventTensors::select(const torch::Tensor& index) const {
  EventTensors s;
  s.source = source;
  s.particles = particles.index_select(0, index);
  s.mask = mask.index_select(0, index);
  s.global = global.index_select(0, index);
  if (partons.defined()) s.partons = partons.index_select(0, index);
  const auto* p = index.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < index.numel(); ++i) s.rows.push_back(rows[p[i]]);
  return s;
}

EventTensors EventTensors::select(const std::vector<std::int64_t>& index) const {
  return select(torch::tensor(index, torch::kInt64));
}

Batch EventTensors::batch(std::int64_t first, std::int64_t count,
                          const torch::Tensor& normalisedPartons) const {
  return {particles.narrow(0, first, count), mask.narrow(0, first, count),
          global.narrow(0, first, count), normalisedPartons};
}

EventTensors selectedEvents(const io::EventTable& table, std::int64_t maxEvents, bool withTargets) {
  requireTTbar(table.attributes(), table.source());
  const auto pass = table.get<std::uint8_t>(kSelectionDataset, {});
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < pass.size(); ++i) {
    if (pass[i] && (maxEvents <= 0 || static_cast<std::int64_t>(keep.size()) < maxEvents)) {
      keep.push_back(i);
    }
  }
  require(!keep.empty(), table.source() + ": no selected event (/reco/pass_sr = 1) to train on");
  io::EventTable rows = table.selectRows(keep);
  rows.setSource(table.source());
  EventTensors e = toTensors(rows, withTargets);
  for (std::size_t i = 0; i < keep.size(); ++i) e.rows[i] = table.firstRow() + keep[i];
  return e;
}

EventTensors readSelectedEvents(const std::string& path, std::int64_t maxEvents, bool withTargets,
                                std::size_t chunkEvents) {
  const io::EventFileReader reader(path);
  requireTTbar(reader.attributes(), path);
  std::vector<std::string> datasets = datasetsFor(withTargets);
  for (const auto& d : datasets) {
    if (!reader.has(d)) {
      throw InputError(path + ": no dataset " + d +
                       (d == kTargetDataset ? " (training needs the truth of a generated file)"
                                            : " (run `nurec simulate` on it first)"));
    }
  }
  require(reader.has(kSelectionDataset), path + ": no dataset /reco/pass_sr");
  std::size_t kept = 0;
  const auto select = [&](const io::EventTable& chunk) {
    const auto pass = chunk.get<std::uint8_t>(kSelectionDataset, {});
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < pass.size(); ++i) {
      if (pass[i] && (maxEvents <= 0 || static_cast<std::int64_t>(kept) < maxEvents)) {
        rows.push_back(i);
        ++kept;
      }
    }
    requireMemory(static_cast<double>(kept) * kBytesPerEvent, availableMemoryBytes(),
                  "training on " + std::to_string(kept) + " events of " + path,
                  "set train.max_events");
    return rows;
  };
  std::vector<std::string> all = datasets;
  all.push_back(kSelectionDataset);
  std::vector<std::size_t> fileRows;
  io::EventTable table =
      io::readRowsInChunks(reader, all, chunkEvents, select, datasets, &fileRows);
  require(table.nEvents() > 0, path + ": no selected event (/reco/pass_sr = 1) to train on");
  table.setSource(path);
  EventTensors e = toTensors(table, withTargets);
  e.rows = fileRows;
  return e;
}

EventTensors allEvents(const io::EventTable& table) {
  return toTensors(table, false);
}

namespace {

// (x, y) rotated by the per-event angle (cos, sin of shape broadcastable to x), in double
// precision.
std::pair<torch::Tensor, torch::Tensor> rotated(const torch::Tensor& x, const torch::Tensor& y,
                                                const torch::Tensor& cos,
                                                const torch::Tensor& sin) {
  const torch::Tensor xd = x.to(torch::kFloat64), yd = y.to(torch::kFloat64);
  return {cos * xd - sin * yd, sin * xd + cos * yd};
}

}  // namespace

FramedEvents inLeptonFrame(const EventTensors& events) {
  // Point-cloud feature columns (docs/ttbar.md "Point cloud") and the MET columns of `global`.
  constexpr int kPhi = 2, kPx = 3, kPy = 4, kMetX = 0, kMetY = 1;
  FramedEvents framed{events, torch::Tensor()};
  EventTensors& e = framed.events;
  const torch::Tensor lepton = events.particles.select(1, 0).to(torch::kFloat64);
  const torch::Tensor present = events.mask.select(1, 0);
  framed.delta = torch::where(present, -torch::atan2(lepton.select(1, kPy), lepton.select(1, kPx)),
                              torch::zeros_like(lepton.select(1, 0)));
  const torch::Tensor c = torch::cos(framed.delta), s = torch::sin(framed.delta);

  e.particles = events.particles.clone();
  const auto [px, py] = rotated(events.particles.select(2, kPx), events.particles.select(2, kPy),
                                c.unsqueeze(1), s.unsqueeze(1));
  const torch::Tensor zero = torch::zeros_like(px);
  e.particles.select(2, kPx).copy_(torch::where(events.mask, px, zero));
  e.particles.select(2, kPy).copy_(torch::where(events.mask, py, zero));
  e.particles.select(2, kPhi).copy_(torch::where(events.mask, torch::atan2(py, px), zero));

  e.global = events.global.clone();
  const auto [metX, metY] =
      rotated(events.global.select(1, kMetX), events.global.select(1, kMetY), c, s);
  e.global.select(1, kMetX).copy_(metX);
  e.global.select(1, kMetY).copy_(metY);

  if (events.partons.defined()) e.partons = rotateRecords(events.partons, framed.delta);
  return framed;
}

torch::Tensor rotateRecords(const torch::Tensor& records, const torch::Tensor& angle) {
  constexpr int kPx = 2, kPy = 3;  // (M, E, px, py, pz) per parton (docs/ttbar.md "Parton record")
  const auto n = records.size(0);
  require(angle.dim() == 1 && angle.size(0) == n, "rotateRecords: one angle per record");
  std::vector<std::int64_t> partonShape(records.sizes().begin(), records.sizes().end());
  require(partonShape.back() == kRecordSize, "rotateRecords: records of 55 components");
  partonShape.back() = kPartons;
  partonShape.push_back(kComponents);
  torch::Tensor out = records.clone().view(partonShape);
  std::vector<std::int64_t> angleShape(partonShape.size() - 1, 1);  // (N, 1, ..., 1) per parton
  angleShape[0] = n;
  const torch::Tensor c = torch::cos(angle).view(angleShape),
                      s = torch::sin(angle).view(angleShape);
  const auto [px, py] = rotated(out.select(-1, kPx), out.select(-1, kPy), c, s);
  out.select(-1, kPx).copy_(px);
  out.select(-1, kPy).copy_(py);
  return out.view(records.sizes());
}

}  // namespace nurec::ml::unfold
