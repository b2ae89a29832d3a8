// `nurec train`: Lion + warm-up/cosine LR + EMA + clipping + early stopping, atomic per-epoch
// checkpoints and bit-exact resume (docs/ml-methods.md sections 1, 4, 6, 8). Computing
// (prepareTrainingSet, Trainer) and writing (checkpoint, model directory, log) are separate
// (ml/Trainer.hpp).
#include "nurec/ml/Trainer.hpp"

#include <ATen/ATen.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <new>
#include <regex>
#include <sstream>
#include <variant>

#include "nurec/Version.hpp"
#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/Units.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/io/Shards.hpp"
#include "nurec/ml/Integrity.hpp"
#include "nurec/ml/Resources.hpp"
#include "nurec/ml/Schedule.hpp"

namespace nurec::ml {

namespace fs = std::filesystem;

namespace {

// 2: adds the skipped-step counter and the identity of the training data (format 1 still loads).
// 3: the identity of the training data is hashed per row block (streamed data, any rank count);
// the identity of a format-2 checkpoint cannot be compared and is not checked.
constexpr std::int64_t kCheckpointFormat = 3;

// Rotates a batch about z by delta (B): phi and (px, py) of valid slots, (px, py) of both targets.
// Rotates a batch about z by delta per row: phi, px, py of every filled slot and, if y is defined,
// the (px, py) of both lab-frame targets (visible-frame targets turn with the event).
void rotateBatch(torch::Tensor& x, const torch::Tensor& mask, torch::Tensor& y,
                 const torch::Tensor& delta) {
  const double pi = constants::pi;
  const torch::Tensor c = torch::cos(delta).unsqueeze(1), s = torch::sin(delta).unsqueeze(1);
  const torch::Tensor mf = mask.to(x.scalar_type());
  torch::Tensor phi = x.select(2, feat::phi);
  const torch::Tensor newPhi = (torch::remainder(phi + delta.unsqueeze(1) + pi, 2 * pi) - pi) * mf;
  const torch::Tensor px = x.select(2, feat::px).clone(), py = x.select(2, feat::py).clone();
  x.select(2, feat::phi).copy_(newPhi);
  x.select(2, feat::px).copy_(c * px - s * py);
  x.select(2, feat::py).copy_(s * px + c * py);
  for (int k = 0; k < 2 && y.defined(); ++k) {
    const torch::Tensor yx = y.select(1, 3 * k).clone(), yy = y.select(1, 3 * k + 1).clone();
    y.select(1, 3 * k).copy_(c.squeeze(1) * yx - s.squeeze(1) * yy);
    y.select(1, 3 * k + 1).copy_(s.squeeze(1) * yx + c.squeeze(1) * yy);
  }
}

TrainTensors toTensors(const EventData& d, const std::vector<std::size_t>& idx) {
  const auto n = static_cast<std::int64_t>(idx.size());
  TrainTensors t;
  t.x = torch::empty({n, kNumSlots, d.features()});
  t.mask = torch::empty({n, kNumSlots}, torch::kBool);
  t.channel = torch::empty({n}, torch::kInt64);
  t.y = torch::empty({n, kNumTargets});
  auto* xp = t.x.data_ptr<float>();
  auto* mp = t.mask.data_ptr<bool>();
  auto* cp = t.channel.data_ptr<std::int64_t>();
  auto* yp = t.y.data_ptr<float>();
  const std::size_t PF = static_cast<std::size_t>(kNumSlots) * d.features();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::size_t e = idx[i];
    std::copy_n(&d.x[e * PF], PF, xp + i * PF);
    for (int p = 0; p < kNumSlots; ++p) mp[i * kNumSlots + p] = d.mask[e * kNumSlots + p] != 0;
    cp[i] = d.channel[e];
    std::copy_n(&d.target[e * kNumTargets], kNumTargets, yp + i * kNumTargets);
  }
  return t;
}

// alpha, sigma of the bounded cosine schedule for a tensor of t, computed in double.
std::pair<torch::Tensor, torch::Tensor> alphaSigma(const BoundedCosineSchedule& s,
                                                   const torch::Tensor& t) {
  const torch::Tensor td = t.to(torch::kFloat64);
  const torch::Tensor lam = -2.0 * torch::log(torch::tan(td * s.angleScale() + s.angleOffset()));
  return {torch::sqrt(torch::sigmoid(lam)).to(t.scalar_type()),
          torch::sqrt(torch::sigmoid(-lam)).to(t.scalar_type())};
}

std::string formatDuration(double s) {
  char b[32];
  if (s >= 3600)
    std::snprintf(b, sizeof b, "%dh%02dm", int(s / 3600), int(std::fmod(s, 3600) / 60));
  else if (s >= 60)
    std::snprintf(b, sizeof b, "%dm%02ds", int(s / 60), int(std::fmod(s, 60)));
  else
    std::snprintf(b, sizeof b, "%.0fs", s);
  return b;
}

template <class T>
void hashVector(Sha256& sha, const std::vector<T>& v) {
  sha.update(v.data(), v.size() * sizeof(T));
}

std::string describeValue(double v) {
  if (std::isnan(v)) return "nan";
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

}  // namespace

namespace {

class TableSource final : public EventSource {
 public:
  explicit TableSource(const io::EventTable& table)
      : table_(table),
        name_(table.source().empty() ? std::string("training data") : table.source()) {}
  std::size_t nEvents() const override { return table_.nEvents(); }
  const std::string& name() const override { return name_; }
  bool has(const std::string& dataset) const override { return table_.has(dataset); }
  std::vector<std::string> datasets() const override {
    std::vector<std::string> out;
    for (const auto& entry : table_.columns()) out.push_back(entry.first);
    return out;
  }
  io::EventTable read(std::size_t first, std::size_t count,
                      const std::vector<std::string>& datasets) const override {
    first = std::min(first, table_.nEvents());
    count = std::min(count, table_.nEvents() - first);
    io::EventTable out(count);
    out.setSource(table_.source());
    out.setFirstRow(first);
    for (const auto& [k, v] : table_.attributes()) out.setAttribute(k, v);
    for (const auto& name : datasets) {
      const io::Column& col = table_.column(name);
      const auto rs = static_cast<std::ptrdiff_t>(col.rowSize());
      const auto b = static_cast<std::ptrdiff_t>(first), e = static_cast<std::ptrdiff_t>(count);
      std::visit(
          [&](const auto& v) {
            std::decay_t<decltype(v)> part(v.begin() + b * rs, v.begin() + (b + e) * rs);
            out.set(name, col.rowShape, std::move(part));
          },
          col.values);
    }
    return out;
  }

 private:
  const io::EventTable& table_;
  std::string name_;
};

class FileSource final : public EventSource {
 public:
  explicit FileSource(const std::string& path) : reader_(path) {}
  std::size_t nEvents() const override { return reader_.nEvents(); }
  const std::string& name() const override { return reader_.path(); }
  bool has(const std::string& dataset) const override { return reader_.has(dataset); }
  std::vector<std::string> datasets() const override {
    std::vector<std::string> out;
    for (const auto& entry : reader_.datasets()) out.push_back(entry.first);
    return out;
  }
  io::EventTable read(std::size_t first, std::size_t count,
                      const std::vector<std::string>& datasets) const override {
    return reader_.read(first, count, datasets);
  }

 private:
  io::EventFileReader reader_;
};

std::size_t roundUpToBlock(std::size_t rows) {
  return std::max<std::size_t>(1, (rows + io::kRowBlock - 1) / io::kRowBlock) * io::kRowBlock;
}

// The datasets the features of docs/ml-methods.md section 1 are built from (a missing one is an
// error of buildEventData or of the reader, naming it).
std::vector<std::string> featureDatasets(const EventSource& events, const InputConfig& inputs) {
  std::vector<std::string> d{io::ds::recoParticles, io::ds::recoParticlesMask, io::ds::recoChannel,
                             io::ds::recoTauP4, io::ds::nuP4};
  if (inputs.impactParameters && events.has(io::ds::recoTrackIp)) d.push_back(io::ds::recoTrackIp);
  if (inputs.activity && events.has(io::ds::recoSumEt)) d.push_back(io::ds::recoSumEt);
  // The FastMTT input solves each event from its whole reconstructed record (io::getReco).
  if (inputs.fastMtt)
    for (const auto& name : events.datasets())
      if (name.rfind("/reco/", 0) == 0 && std::find(d.begin(), d.end(), name) == d.end())
        d.push_back(name);
  for (auto it = d.begin(); it != d.end();) it = events.has(*it) ? it + 1 : d.erase(it);
  return d;
}

// Appends events `idx` of `from` to `to` (features, mask, channel, targets, rows).
void appendEvents(EventData& to, const EventData& from, const std::vector<std::size_t>& idx) {
  const std::size_t PF = static_cast<std::size_t>(kNumSlots) * from.features();
  to.inputs = from.inputs;
  for (const std::size_t e : idx) {
    to.x.insert(to.x.end(), from.x.begin() + e * PF, from.x.begin() + (e + 1) * PF);
    to.mask.insert(to.mask.end(), from.mask.begin() + e * kNumSlots,
                   from.mask.begin() + (e + 1) * kNumSlots);
    to.channel.push_back(from.channel[e]);
    to.target.insert(to.target.end(), from.target.begin() + e * kNumTargets,
                     from.target.begin() + (e + 1) * kNumTargets);
    to.row.push_back(from.row[e]);
  }
  to.n += idx.size();
}

LocalEvents toLocal(const EventData& d) {
  std::vector<std::size_t> all(d.n);
  for (std::size_t e = 0; e < d.n; ++e) all[e] = e;
  LocalEvents out;
  out.t = toTensors(d, all);
  out.rows = d.row;
  return out;
}

// The features of the given rows (increasing, of this rank's shard), read in ranges of whole row
// blocks of at most chunkEvents rows that hold them.
LocalEvents loadRows(const TrainingSet& set, const std::vector<std::size_t>& rows) {
  const TrainConfig& tc = set.config.train;
  const std::vector<std::string> datasets = featureDatasets(*set.events, set.config.inputs);
  const std::size_t chunk = roundUpToBlock(set.data.chunkEvents), n = set.events->nEvents();
  EventData acc;
  acc.inputs = set.config.inputs;
  std::size_t i = 0;
  while (i < rows.size()) {
    const std::size_t first = rows[i] / io::kRowBlock * io::kRowBlock;
    std::size_t end = first + io::kRowBlock, j = i;
    while (j < rows.size()) {
      const std::size_t block = rows[j] / io::kRowBlock * io::kRowBlock;
      if (block >= end) {
        if (block != end || block + io::kRowBlock - first > chunk) break;
        end = block + io::kRowBlock;
      }
      ++j;
    }
    end = std::min(end, n);
    const io::EventTable t = set.events->read(first, end - first, datasets);
    std::vector<std::size_t> local;
    for (std::size_t k = i; k < j; ++k) local.push_back(rows[k] - first);
    EventData ed = buildEventData(t, local, tc.azimuth == "canonical", true, set.config.inputs, 1,
                                  targetFrameFromName(tc.targetFrame));
    for (auto& r : ed.row) r += first;
    std::vector<std::size_t> all(ed.n);
    for (std::size_t e = 0; e < ed.n; ++e) all[e] = e;
    appendEvents(acc, ed, all);
    i = j;
  }
  return toLocal(acc);
}

// t and epsilon of each validation event from a stream seeded by its row, the same every epoch
// (docs/ml-methods.md section 6), and the noisy target and v target they give.
void validationNoise(const DiffusionConfig& config, const NormStats& norm, const LocalEvents& val,
                     torch::Tensor& valT, torch::Tensor& valZ, torch::Tensor& valV) {
  const std::int64_t nVal = val.size();
  valT = torch::empty({nVal});
  torch::Tensor valEps = torch::empty({nVal, kNumTargets});
  float* tp = valT.data_ptr<float>();
  float* ep = valEps.data_ptr<float>();
  for (std::int64_t i = 0; i < nVal; ++i) {
    Rng rng(config.train.seed, val.rows[static_cast<std::size_t>(i)], streams::ml);
    tp[i] = static_cast<float>(rng.uniform());
    for (int c = 0; c < kNumTargets; ++c)
      ep[i * kNumTargets + c] = static_cast<float>(rng.normal());
  }
  const torch::Tensor yMean =
      torch::from_blob(const_cast<float*>(norm.yMean.data()), {kNumTargets}).clone();
  const torch::Tensor yStd =
      torch::from_blob(const_cast<float*>(norm.yStd.data()), {kNumTargets}).clone();
  const BoundedCosineSchedule schedule(config.schedule.lambdaMin, config.schedule.lambdaMax);
  const torch::Tensor valY = (val.t.y - yMean) / yStd;
  auto [valA, valS] = alphaSigma(schedule, valT);
  valZ = valA.unsqueeze(1) * valY + valS.unsqueeze(1) * valEps;
  valV = valA.unsqueeze(1) * valEps - valS.unsqueeze(1) * valY;
}

// Rows of every event with a reconstructed channel (pass_sr, train.channels), increasing, cut at
// train.max_events: only /reco/channel (and /reco/pass_sr) of every row are read.
std::vector<std::size_t> selectedRows(const EventSource& events, const TrainConfig& tc,
                                      std::size_t chunk) {
  std::vector<std::string> d{io::ds::recoChannel};
  if (tc.requireSignalRegion) d.push_back(io::ds::recoPassSr);
  std::vector<std::size_t> out;
  for (std::size_t first = 0; first < events.nEvents(); first += chunk) {
    const io::EventTable t = events.read(first, chunk, d);
    for (const std::size_t r : selectRows(t, tc.requireSignalRegion, tc.channels))
      out.push_back(first + r);
    if (tc.maxEvents > 0 && out.size() >= static_cast<std::size_t>(tc.maxEvents)) {
      out.resize(static_cast<std::size_t>(tc.maxEvents));
      break;
    }
  }
  return out;
}

// Pass 2 of prepareTrainingSet, over this rank's rows in chunks: the reco checks of every row, and
// per block of io::kRowBlock rows the normalisation sums of its training events and a digest of
// its selected events (zero for the blocks of other ranks), so that the totals do not depend on the
// chunks or the ranks; and the events that stay in memory.
struct OwnRowsScan {
  torch::Tensor sums, digests;  // (blocks x normSumsSize), (blocks x 32 bytes), float64
  EventData train, val;
};
OwnRowsScan scanOwnRows(const TrainingSet& set, const std::vector<std::size_t>& rows) {
  const DiffusionConfig& config = set.config;
  const TrainConfig& tc = config.train;
  const EventSource& events = *set.events;
  const std::size_t n = events.nEvents(), chunk = roundUpToBlock(set.data.chunkEvents);
  const auto mod = static_cast<std::size_t>(tc.validationModulus);
  OwnRowsScan scan;
  const std::size_t nBlocks = (n + io::kRowBlock - 1) / io::kRowBlock;
  const std::size_t L = normSumsSize(config.inputs);
  scan.sums = torch::zeros({static_cast<std::int64_t>(nBlocks * L)}, torch::kFloat64);
  scan.digests = torch::zeros({static_cast<std::int64_t>(nBlocks * 32)}, torch::kFloat64);
  double* sp = scan.sums.data_ptr<double>();
  double* dp = scan.digests.data_ptr<double>();
  std::vector<std::string> checked = featureDatasets(events, config.inputs);
  for (const auto& name : events.datasets())
    if (name.rfind("/reco/", 0) == 0 &&
        std::find(checked.begin(), checked.end(), name) == checked.end())
      checked.push_back(name);
  scan.train.inputs = scan.val.inputs = config.inputs;
  for (std::size_t first = set.ownFirst; first < set.ownEnd; first += chunk) {
    const std::size_t count = std::min(chunk, set.ownEnd - first);
    io::EventTable t = events.read(first, count, checked);
    t.setSource(set.source + " (rows " + std::to_string(first) + "-" +
                std::to_string(first + count - 1) + ")");
    validateRecoInputs(t);
    std::vector<std::size_t> local;
    for (auto it = std::lower_bound(rows.begin(), rows.end(), first);
         it != rows.end() && *it < first + count; ++it)
      local.push_back(*it - first);
    EventData ed = buildEventData(t, local, tc.azimuth == "canonical", true, config.inputs, 1,
                                  targetFrameFromName(tc.targetFrame));
    for (auto& r : ed.row) r += first;
    const std::size_t PF = static_cast<std::size_t>(kNumSlots) * ed.features();
    std::vector<std::size_t> keepTrain, keepVal;
    for (std::size_t e0 = 0; e0 < ed.n;) {
      const std::size_t block = ed.row[e0] / io::kRowBlock;
      std::size_t e1 = e0;
      std::vector<std::size_t> trainIdx;
      for (; e1 < ed.n && ed.row[e1] / io::kRowBlock == block; ++e1) {
        const bool val = ed.row[e1] % mod == mod - 1;
        if (!val) trainIdx.push_back(e1);
        (val ? keepVal : keepTrain).push_back(e1);
      }
      const std::vector<double> blockSums = normSums(ed, trainIdx);
      std::copy(blockSums.begin(), blockSums.end(), sp + block * L);
      Sha256 sha;
      sha.update(&ed.x[e0 * PF], (e1 - e0) * PF * sizeof(float));
      sha.update(&ed.mask[e0 * kNumSlots], (e1 - e0) * kNumSlots);
      sha.update(&ed.channel[e0], (e1 - e0) * sizeof(std::int64_t));
      sha.update(&ed.target[e0 * kNumTargets], (e1 - e0) * kNumTargets * sizeof(float));
      sha.update(&ed.row[e0], (e1 - e0) * sizeof(std::size_t));
      const std::string hex = sha.hexDigest();
      for (std::size_t k = 0; k < 32; ++k)
        dp[block * 32 + k] = static_cast<double>(std::stoi(hex.substr(2 * k, 2), nullptr, 16));
      e0 = e1;
    }
    if (set.trainResident) appendEvents(scan.train, ed, keepTrain);
    if (set.valResident) appendEvents(scan.val, ed, keepVal);
  }
  return scan;
}

}  // namespace

std::int64_t LocalEvents::index(std::size_t row) const {
  const auto it = std::lower_bound(rows.begin(), rows.end(), row);
  return it != rows.end() && *it == row ? static_cast<std::int64_t>(it - rows.begin()) : -1;
}

std::shared_ptr<const EventSource> tableSource(const io::EventTable& table) {
  return std::make_shared<TableSource>(table);
}
std::shared_ptr<const EventSource> fileSource(const std::string& path) {
  return std::make_shared<FileSource>(path);
}

TrainingSet prepareTrainingSet(const DiffusionConfig& config, const io::EventTable& data) {
  return prepareTrainingSet(config, tableSource(data), DataOptions{});
}

TrainingSet prepareTrainingSet(const DiffusionConfig& config,
                               const std::shared_ptr<const EventSource>& events,
                               const DataOptions& data, Communicator* comm) {
  const TrainConfig& tc = config.train;
  TrainingSet set;
  set.config = config;
  set.events = events;
  set.data = data;
  set.source = events->name();
  const std::size_t buffer = data.shuffleBufferEvents;
  if (buffer < static_cast<std::size_t>(tc.batchSize) || buffer > (std::size_t{1} << 40))
    throw ConfigError("train: the shuffle buffer (" + std::to_string(buffer) +
                      " events) must hold at least one batch (train.batch_size " +
                      std::to_string(tc.batchSize) + ") and at most 2^40 events");
  if (data.chunkEvents == 0) throw ConfigError("train: --chunk-events must be positive");
  set.rank = comm ? comm->rank() : 0;
  set.ranks = comm ? comm->worldSize() : 1;
  const std::size_t n = events->nEvents();
  const io::ShardRange own = io::shardRows(
      set.ranks > 1 ? std::to_string(set.rank) + "/" + std::to_string(set.ranks) : "", n);
  set.ownFirst = own.first;
  set.ownEnd = own.first + own.count;
  const std::size_t chunk = roundUpToBlock(data.chunkEvents);

  // Pass 1, every rank, all rows: the selection and the split by file row (section 1).
  const std::vector<std::size_t> rows = selectedRows(*events, tc, chunk);
  const auto mod = static_cast<std::size_t>(tc.validationModulus);
  std::size_t nVal = 0;
  for (const std::size_t r : rows) {
    if (r % mod == mod - 1) {
      ++nVal;
      if (set.owns(r)) set.valRows.push_back(r);
    } else {
      set.trainRows.push_back(r);
    }
  }
  set.nTrain = static_cast<std::int64_t>(set.trainRows.size());
  set.nVal = static_cast<std::int64_t>(nVal);
  if (set.trainRows.size() < static_cast<std::size_t>(tc.batchSize) || nVal == 0) {
    throw InputError(set.source + ": " + std::to_string(rows.size()) + " selected events (" +
                     std::to_string(set.trainRows.size()) +
                     " for training) are too few for batch size " + std::to_string(tc.batchSize));
  }
  {
    Sha256 sha;
    hashVector(sha, rows);
    const std::uint64_t total = n;
    sha.update(&total, sizeof total);
    set.selectionSha256 = sha.hexDigest();
  }
  set.trainResident = set.trainRows.size() <= buffer;
  set.valResident = nVal <= buffer;
  const std::size_t held = std::min(set.trainRows.size(), buffer) + std::min(nVal, buffer);
  requireMemory(trainingMemoryBytes(config, held / static_cast<std::size_t>(set.ranks)),
                availableMemoryBytes(),
                "training this model on " + std::to_string(rows.size()) + " events",
                "use a smaller model (encoder/head width, layers) or train.batch_size, a smaller "
                "--shuffle-buffer, or limit train.max_events");

  // Pass 2, this rank's rows (see scanOwnRows); the block sums of all ranks added in block order.
  OwnRowsScan scan = scanOwnRows(set, rows);
  torch::Tensor& sums = scan.sums;
  torch::Tensor& digests = scan.digests;
  const std::size_t nBlocks = (n + io::kRowBlock - 1) / io::kRowBlock;
  const std::size_t L = normSumsSize(config.inputs);
  const double* sp = sums.data_ptr<double>();
  const double* dp = digests.data_ptr<double>();
  if (comm != nullptr)
    comm->allreduceSum({sums, digests}, "all-reduce of the normalisation sums of the row blocks");
  std::vector<double> total(L, 0.0);
  for (std::size_t b = 0; b < nBlocks; ++b)
    for (std::size_t k = 0; k < L; ++k) total[k] += sp[b * L + k];
  set.norm = normStatsFromSums(total, config.inputs, true);
  {
    std::vector<std::uint8_t> bytes(nBlocks * 32);
    for (std::size_t k = 0; k < bytes.size(); ++k) bytes[k] = static_cast<std::uint8_t>(dp[k]);
    Sha256 sha;
    hashVector(sha, bytes);
    set.dataSha256 = sha.hexDigest();
  }
  if (set.trainResident) set.train = toLocal(scan.train);
  if (set.valResident) {
    set.val = toLocal(scan.val);
    validationNoise(config, set.norm, set.val, set.valT, set.valZ, set.valV);
  }
  return set;
}

namespace {
DiffusionNet initialisedNet(const DiffusionConfig& config, const NormStats& norm) {
  torch::manual_seed(config.train.seed);  // initialisation from the run seed
  DiffusionNet net = makeNet(config);
  net->setNormalisation(norm);
  return net;
}
DiffusionNet emaCopy(const DiffusionConfig& config, DiffusionNet& net) {
  DiffusionNet ema = makeNet(config);
  copyWeights(*ema, *net);
  for (auto& p : ema->parameters()) p.set_requires_grad(false);
  return ema;
}
}  // namespace

Trainer::Trainer(const DiffusionConfig& config, const TrainingSet& set, int epochs,
                 Communicator* comm)
    : net(initialisedNet(config, set.norm)),
      ema(emaCopy(config, net)),
      params(net->parameters()),
      lion(params, config.train.beta1, config.train.beta2, config.train.weightDecay),
      gen(at::detail::createCPUGenerator(hashSeed(config.train.seed, 0, streams::ml))),
      config_(config),
      set_(set),
      epochs_(epochs),
      comm_(comm),
      yMean_(net->yMean().clone()),
      yStd_(net->yStd().clone()),
      wallStart_(std::chrono::steady_clock::now()) {
  if (comm_ != nullptr) {
    // Defined (zero) gradients from the start: every rank sends every gradient to the all-reduce.
    for (auto& p : params) p.mutable_grad() = torch::zeros_like(p);
  }
}

void Trainer::synchronise() {
  if (comm_ == nullptr) return;
  std::vector<torch::Tensor> weights;
  for (auto* m : {&net, &ema}) {
    for (const auto& p : (*m)->parameters()) weights.push_back(p);
    for (const auto& b : (*m)->buffers()) weights.push_back(b);
  }
  for (const auto& m : lion.momenta()) weights.push_back(m);
  comm_->broadcastFromRoot(weights, "broadcast of the weights from rank 0");
  torch::Tensor genState = gen.get_state();
  comm_->broadcastFromRoot({genState}, "broadcast of the random stream from rank 0");
  gen.set_state(genState);
  const torch::Tensor counters = torch::tensor(
      {double(state.epochsDone), double(state.step), double(state.bestEpoch),
       double(state.badEpochs), double(state.stopped), double(state.skippedSteps), state.bestVal},
      torch::kFloat64);
  comm_->broadcastFromRoot({counters}, "broadcast of the training state from rank 0");
  const auto c = counters.accessor<double, 1>();
  state.epochsDone = static_cast<int>(c[0]);
  state.step = static_cast<std::int64_t>(c[1]);
  state.bestEpoch = static_cast<int>(c[2]);
  state.badEpochs = static_cast<int>(c[3]);
  state.stopped = c[4] != 0;
  state.skippedSteps = static_cast<std::int64_t>(c[5]);
  state.bestVal = c[6];
}

namespace {
// Sum of squared v errors of the EMA model over validation events, in batches of 1024.
double validationSum(DiffusionNet& ema, const LocalEvents& val, const torch::Tensor& valT,
                     const torch::Tensor& valZ, const torch::Tensor& valV) {
  double sum = 0;
  const std::int64_t n = val.size();
  for (std::int64_t b0 = 0; b0 < n; b0 += 1024) {
    const std::int64_t m = std::min<std::int64_t>(1024, n - b0);
    auto sl = [&](const torch::Tensor& t) { return t.narrow(0, b0, m); };
    const torch::Tensor v =
        ema->forward(sl(val.t.x), sl(val.t.mask), sl(val.t.channel), sl(valZ), sl(valT));
    sum += (v - sl(valV)).pow(2).sum().item<double>();
  }
  return sum;
}
}  // namespace

double Trainer::validationLoss() {
  torch::NoGradGuard ng;
  ema->eval();
  // Each rank evaluates the validation events of its shard of the rows; the sum is all-reduced.
  double sum = 0;
  if (set_.valResident) {
    sum = validationSum(ema, set_.val, set_.valT, set_.valZ, set_.valV);
  } else {
    // Read again in parts of whole 1024-event batches that fit in the buffer.
    const std::size_t part =
        std::max<std::size_t>(1024, set_.data.shuffleBufferEvents / 1024 * 1024);
    for (std::size_t i = 0; i < set_.valRows.size(); i += part) {
      const std::vector<std::size_t> rows(
          set_.valRows.begin() + static_cast<std::ptrdiff_t>(i),
          set_.valRows.begin() +
              static_cast<std::ptrdiff_t>(std::min(set_.valRows.size(), i + part)));
      const LocalEvents val = loadRows(set_, rows);
      torch::Tensor t, z, v;
      validationNoise(config_, set_.norm, val, t, z, v);
      sum += validationSum(ema, val, t, z, v);
    }
  }
  if (comm_ != nullptr) {
    const torch::Tensor total = torch::tensor({sum}, torch::kFloat64);
    comm_->allreduceSum({total}, "all-reduce of the validation loss");
    sum = total.item<double>();
  }
  return sum / static_cast<double>(set_.nVal * kNumTargets);
}

namespace {

// The training rows of one epoch in the order the batches take them, a window of the shuffle
// buffer at a time (docs/ml-methods.md section 1 "Reading the training data"). All training events
// fit in the buffer: one window, a Fisher-Yates shuffle of all of them from a stream seeded by
// (seed, epoch). Otherwise the row blocks are shuffled (stream (seed, epoch, +101)), cut in
// consecutive windows of at most the buffer's training events, and each window's events are
// shuffled (stream (seed, epoch << 32 | window, +102)). The same for every rank and chunk size.
class EpochOrder {
 public:
  EpochOrder(const TrainingSet& set, int epoch) : set_(set), epoch_(epoch) {
    const std::uint64_t seed = set.config.train.seed;
    if (set.trainResident) {
      windows_.push_back({});
      return;
    }
    const std::size_t n = set.events->nEvents();
    const std::size_t nBlocks = (n + io::kRowBlock - 1) / io::kRowBlock;
    blocks_.resize(nBlocks);
    for (std::size_t b = 0; b < nBlocks; ++b) blocks_[b] = b;
    Rng brng(seed, static_cast<std::uint64_t>(epoch), streams::ml + 101);
    for (std::size_t i = nBlocks; i-- > 1;) std::swap(blocks_[i], blocks_[brng.below(i + 1)]);
    std::size_t begin = 0, events = 0;
    for (std::size_t i = 0; i < nBlocks; ++i) {
      const std::size_t c = count(blocks_[i]);
      if (i > begin && events + c > set.data.shuffleBufferEvents) {
        windows_.push_back({begin, i});
        begin = i;
        events = 0;
      }
      events += c;
    }
    if (begin < nBlocks) windows_.push_back({begin, nBlocks});
  }
  std::size_t windows() const { return windows_.size(); }
  // The training rows of window w, shuffled.
  std::vector<std::size_t> rows(std::size_t w) const {
    const std::vector<std::size_t>& all = set_.trainRows;
    std::vector<std::size_t> out;
    std::unique_ptr<Rng> rng;
    if (set_.trainResident) {
      out = all;
      rng = std::make_unique<Rng>(set_.config.train.seed, static_cast<std::uint64_t>(epoch_),
                                  streams::ml + 100);
    } else {
      std::vector<std::size_t> bs(
          blocks_.begin() + static_cast<std::ptrdiff_t>(windows_[w].first),
          blocks_.begin() + static_cast<std::ptrdiff_t>(windows_[w].second));
      std::sort(bs.begin(), bs.end());
      for (const std::size_t b : bs) {
        auto lo = std::lower_bound(all.begin(), all.end(), b * io::kRowBlock);
        auto hi = std::lower_bound(lo, all.end(), (b + 1) * io::kRowBlock);
        out.insert(out.end(), lo, hi);
      }
      rng =
          std::make_unique<Rng>(set_.config.train.seed,
                                (static_cast<std::uint64_t>(epoch_) << 32) | w, streams::ml + 102);
    }
    for (std::size_t i = out.size(); i-- > 1;)
      std::swap(out[i],
                out[static_cast<std::size_t>(rng->below(static_cast<std::uint64_t>(i + 1)))]);
    return out;
  }

 private:
  std::size_t count(std::size_t block) const {
    const auto& all = set_.trainRows;
    auto lo = std::lower_bound(all.begin(), all.end(), block * io::kRowBlock);
    auto hi = std::lower_bound(lo, all.end(), (block + 1) * io::kRowBlock);
    return static_cast<std::size_t>(hi - lo);
  }
  const TrainingSet& set_;
  int epoch_;
  std::vector<std::size_t> blocks_;
  std::vector<std::pair<std::size_t, std::size_t>> windows_;
};

// This rank's events among `rows` (a window), kept with the carried events of `previous`.
LocalEvents windowEvents(const TrainingSet& set, const std::vector<std::size_t>& rows,
                         const LocalEvents& previous, const std::vector<std::size_t>& carried) {
  std::vector<std::size_t> own;
  for (const std::size_t r : rows)
    if (set.owns(r)) own.push_back(r);
  std::sort(own.begin(), own.end());
  LocalEvents fresh = loadRows(set, own);
  std::vector<std::int64_t> keep;
  for (const std::size_t r : carried)
    if (set.owns(r)) keep.push_back(previous.index(r));
  if (keep.empty()) return fresh;
  const torch::Tensor k = torch::tensor(keep, torch::kInt64);
  LocalEvents all;
  all.rows = fresh.rows;
  for (const auto i : keep) all.rows.push_back(previous.rows[static_cast<std::size_t>(i)]);
  std::vector<std::int64_t> order(all.rows.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) {
    return all.rows[static_cast<std::size_t>(a)] < all.rows[static_cast<std::size_t>(b)];
  });
  const torch::Tensor o = torch::tensor(order, torch::kInt64);
  auto join = [&](const torch::Tensor& a, const torch::Tensor& b) {
    return torch::cat({a, b.index_select(0, k)}).index_select(0, o);
  };
  all.t.x = join(fresh.t.x, previous.t.x);
  all.t.mask = join(fresh.t.mask, previous.t.mask);
  all.t.channel = join(fresh.t.channel, previous.t.channel);
  all.t.y = join(fresh.t.y, previous.t.y);
  std::vector<std::size_t> sorted(all.rows.size());
  for (std::size_t i = 0; i < sorted.size(); ++i)
    sorted[i] = all.rows[static_cast<std::size_t>(order[i])];
  all.rows = std::move(sorted);
  return all;
}

}  // namespace

Trainer::EpochResult Trainer::runEpoch(bool progress) {
  const TrainConfig& tc = config_.train;
  const int epoch = state.epochsDone;
  const std::int64_t nTrain = set_.nTrain;
  const std::int64_t B = tc.batchSize;
  const std::int64_t stepsPerEpoch = nTrain / B;
  const std::int64_t totalSteps = stepsPerEpoch * epochs_;
  const BoundedCosineSchedule schedule(config_.schedule.lambdaMin, config_.schedule.lambdaMax);
  const bool tty = isatty(STDERR_FILENO) != 0;
  const auto t0 = std::chrono::steady_clock::now();
  // This rank's rows of every global batch (all of them when alone); only rank 0 talks.
  const bool talk = comm_ == nullptr || comm_->isRoot();
  progress = progress && talk;
  net->train();
  // Data order of this epoch, window by window; a batch that straddles two windows takes the last
  // events of one and the first of the next (the carried rows).
  const EpochOrder epochOrder(set_, epoch);
  std::size_t window = 0;
  std::vector<std::size_t> stream;  // rows of the current window, after the carried ones
  std::size_t streamPos = 0;
  if (set_.trainResident) {
    stream = epochOrder.rows(0);
  } else {
    window_ = LocalEvents{};
  }
  const LocalEvents& resident = set_.train;
  double lossSum = 0;
  std::int64_t goodSteps = 0;
  double lr = 0;
  auto lastDraw = std::chrono::steady_clock::now();
  for (std::int64_t s = 0; s < stepsPerEpoch; ++s) {
    // The rows of this batch; a new window is read when the current one runs out.
    while (stream.size() - streamPos < static_cast<std::size_t>(B) &&
           window < epochOrder.windows() && !set_.trainResident) {
      std::vector<std::size_t> carried(stream.begin() + static_cast<std::ptrdiff_t>(streamPos),
                                       stream.end());
      const std::vector<std::size_t> next = epochOrder.rows(window++);
      window_ = windowEvents(set_, next, window_, carried);
      stream = std::move(carried);
      stream.insert(stream.end(), next.begin(), next.end());
      streamPos = 0;
    }
    const LocalEvents& events = set_.trainResident ? resident : window_;
    // The positions in the global batch of this rank's events (all of them when alone).
    std::vector<std::int64_t> positions, local;
    for (std::int64_t p = 0; p < B; ++p) {
      const std::size_t row = stream[streamPos + static_cast<std::size_t>(p)];
      if (!set_.owns(row)) continue;
      positions.push_back(p);
      local.push_back(events.index(row));
    }
    streamPos += static_cast<std::size_t>(B);
    const auto rows = static_cast<std::int64_t>(positions.size());
    const torch::Tensor pos = torch::tensor(positions, torch::kInt64);
    // The random numbers are drawn for all B rows on every rank (the stream advances alike), and
    // each rank takes its rows: N ranks compute exactly the single-process batch.
    const torch::Tensor idx = torch::tensor(local, torch::kInt64);
    torch::Tensor xb = events.t.x.index_select(0, idx);
    const torch::Tensor mb = events.t.mask.index_select(0, idx);
    const torch::Tensor cb = events.t.channel.index_select(0, idx);
    torch::Tensor yb = events.t.y.index_select(0, idx);
    if (tc.azimuth == "augment") {
      const torch::Tensor delta = torch::empty({B}).uniform_(-constants::pi, constants::pi, gen);
      torch::Tensor labTargets = tc.targetFrame == "lab" ? yb : torch::Tensor();
      rotateBatch(xb, mb, labTargets, delta.index_select(0, pos));
    }
    const torch::Tensor yn = (yb - yMean_) / yStd_;
    // Low-discrepancy t: t_i = (u + i/B) mod 1 (docs/ml-methods.md section 4).
    const torch::Tensor u = torch::empty({1}).uniform_(0, 1, gen);
    const torch::Tensor tb =
        torch::remainder(u + torch::arange(B, torch::kFloat32) / double(B), 1.0)
            .index_select(0, pos);
    const torch::Tensor eps = torch::randn({B, kNumTargets}, gen).index_select(0, pos);
    auto [al, si] = alphaSigma(schedule, tb);
    const torch::Tensor z = al.unsqueeze(1) * yn + si.unsqueeze(1) * eps;
    const torch::Tensor vTarget = al.unsqueeze(1) * eps - si.unsqueeze(1) * yn;
    // Alone: the mean over the batch. Data-parallel: this rank's share of the global-batch mean,
    // so that the sum over ranks is the global mean (0 from a rank with no row in the batch).
    torch::Tensor loss = torch::zeros({});
    if (rows > 0) {
      const torch::Tensor vhat = net->forward(xb, mb, cb, z, tb);
      loss = comm_ ? (vhat - vTarget).pow(2).sum() / double(B * kNumTargets)
                   : (vhat - vTarget).pow(2).mean();
    }
    lr = learningRate(state.step, tc.lrPeak, tc.lrMin, tc.warmupSteps, totalSteps);
    double lossValue = loss.item<double>();
    double gradNorm = 0;
    if (comm_ != nullptr) {
      // Every rank joins the all-reduce, whatever its own loss: a non-finite loss of one rank makes
      // the summed loss non-finite, and all ranks skip the step together.
      net->zero_grad();
      if (std::isfinite(lossValue) && rows > 0) loss.backward();
      std::vector<torch::Tensor> sums;
      for (const auto& p : params) sums.push_back(p.grad());
      const torch::Tensor lossSlot = loss.detach().reshape({1}).clone();
      sums.push_back(lossSlot);  // rides in the last gradient bucket
      comm_->allreduceSum(sums, "all-reduce of the gradients");
      lossValue = lossSlot.item<double>();
      if (std::isfinite(lossValue)) gradNorm = clipGradNorm(params, std::max(tc.gradClip, 0.0));
    } else if (std::isfinite(lossValue)) {
      net->zero_grad();
      loss.backward();
      // Clips only when train.grad_clip > 0; the norm is needed for the finiteness check anyway.
      gradNorm = clipGradNorm(params, tc.gradClip > 0 ? tc.gradClip : 0.0);
    }
    if (!std::isfinite(lossValue) || !std::isfinite(gradNorm)) {
      // A diverging run must not end as a success (docs/reliability.md): skip the update, and
      // stop once more than train.max_skipped_steps steps were skipped.
      ++state.skippedSteps;
      ++state.step;
      const std::string what = !std::isfinite(lossValue)
                                   ? "the loss is " + describeValue(lossValue)
                                   : "the gradient norm is " + describeValue(gradNorm);
      if (state.skippedSteps > tc.maxSkippedSteps) {
        throw TrainingDiverged(
            "training diverged: " + what + " at epoch " + std::to_string(epoch + 1) + ", step " +
            std::to_string(s + 1) + " of " + std::to_string(stepsPerEpoch) + " (learning rate " +
            describeValue(lr) + ", " + std::to_string(state.skippedSteps) +
            " non-finite step(s), train.max_skipped_steps = " + std::to_string(tc.maxSkippedSteps) +
            "); lower train.lr_peak or enable "
            "train.grad_clip");
      }
      if (talk)
        std::fprintf(stderr,
                     "%snurec train: warning: %s at epoch %d, step %lld: step skipped (%lld of "
                     "at most %d)\n",
                     tty ? "\n" : "", what.c_str(), epoch + 1, static_cast<long long>(s + 1),
                     static_cast<long long>(state.skippedSteps), tc.maxSkippedSteps);
      continue;
    }
    lion.step(lr);
    emaUpdate(*ema, *net, tc.emaDecay);
    ++state.step;
    samplesThisRun += B;
    ++goodSteps;
    lossSum += lossValue;
    const auto now = std::chrono::steady_clock::now();
    if (progress &&
        (now - lastDraw > std::chrono::milliseconds(tty ? 500 : 30000) || s + 1 == stepsPerEpoch)) {
      lastDraw = now;
      const double el = std::chrono::duration<double>(now - wallStart_).count();
      const double rate = samplesThisRun / std::max(el, 1e-9);
      const double remaining =
          double((epochs_ - epoch - 1) * stepsPerEpoch + (stepsPerEpoch - s - 1)) * B /
          std::max(rate, 1e-9);
      const int width = 24;
      const int filled = static_cast<int>(width * double(s + 1) / double(stepsPerEpoch));
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar.resize(width, ' ');
      std::fprintf(stderr, "%sepoch %d/%d [%s] loss %.4f  %.0f samples/s  ETA %s%s",
                   tty ? "\r" : "", epoch + 1, epochs_, bar.c_str(),
                   lossSum / double(std::max<std::int64_t>(1, goodSteps)), rate,
                   formatDuration(remaining).c_str(), tty ? "   " : "\n");
      std::fflush(stderr);
    }
  }
  const double valLoss = validationLoss();
  if (!std::isfinite(valLoss)) {
    throw TrainingDiverged("training diverged: the validation loss of epoch " +
                           std::to_string(epoch + 1) + " is " + describeValue(valLoss) +
                           "; lower train.lr_peak or enable train.grad_clip");
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EpochResult r;
  r.record = EpochRecord{epoch + 1, lossSum / double(std::max<std::int64_t>(1, goodSteps)), valLoss,
                         lr, secs};
  state.history.push_back(r.record);
  state.epochsDone = epoch + 1;
  r.improved = valLoss < state.bestVal;
  if (r.improved) {
    state.bestVal = valLoss;
    state.bestEpoch = epoch + 1;
    state.badEpochs = 0;
  } else if (++state.badEpochs >= tc.patience) {
    state.stopped = true;
  }
  return r;
}

void saveCheckpoint(const std::string& path, Trainer& trainer, const CheckpointMeta& meta) {
  const TrainState& st = trainer.state;
  torch::serialize::OutputArchive a;
  for (const auto& it : trainer.net->named_parameters(true))
    a.write("model." + it.key(), it.value());
  for (const auto& it : trainer.net->named_buffers(true))
    a.write("model." + it.key(), it.value(), true);
  for (const auto& it : trainer.ema->named_parameters(true)) a.write("ema." + it.key(), it.value());
  for (const auto& it : trainer.ema->named_buffers(true))
    a.write("ema." + it.key(), it.value(), true);
  for (std::size_t i = 0; i < trainer.lion.momenta().size(); ++i) {
    a.write("lion." + std::to_string(i), trainer.lion.momenta()[i], true);
  }
  a.write("generator_state", trainer.gen.get_state(), true);
  a.write("counters",
          torch::tensor(
              {kCheckpointFormat, static_cast<std::int64_t>(st.epochsDone), st.step,
               static_cast<std::int64_t>(st.bestEpoch), static_cast<std::int64_t>(st.badEpochs),
               static_cast<std::int64_t>(st.stopped), static_cast<std::int64_t>(meta.threads),
               static_cast<std::int64_t>(meta.batchSize), st.skippedSteps, meta.dataEvents}),
          true);
  a.write("best_val", torch::tensor({st.bestVal}, torch::kFloat64), true);
  torch::Tensor hist =
      torch::zeros({static_cast<std::int64_t>(st.history.size()), 5}, torch::kFloat64);
  for (std::size_t i = 0; i < st.history.size(); ++i) {
    const auto& h = st.history[i];
    const double row[5] = {double(h.epoch), h.trainLoss, h.valLoss, h.lr, h.seconds};
    for (int c = 0; c < 5; ++c) hist[i][c] = row[c];
  }
  a.write("history", hist, true);
  a.write("config", c10::IValue(meta.configText));
  a.write("producer", c10::IValue(std::string(kProducer)));
  a.write("data_source", c10::IValue(meta.dataSource));
  a.write("data_sha256", c10::IValue(meta.dataSha256));
  writeArchive(a, path);  // atomic: a kill or a full disk never leaves a half-written checkpoint
}

void loadCheckpoint(const std::string& path, Trainer& trainer, const CheckpointMeta& expected) {
  TrainState& st = trainer.state;
  torch::serialize::InputArchive a;
  readArchive(a, path);
  try {
    torch::Tensor c;
    a.read("counters", c, true);
    const std::int64_t format = c[0].item<std::int64_t>();
    if (format < 1 || format > kCheckpointFormat || c.size(0) < (format >= 2 ? 10 : 8)) {
      throw InputError(path + ": unknown checkpoint format " + std::to_string(format));
    }
    // The run identity first: a checkpoint of other data must not be continued (docs/ml-methods.md
    // section 8).
    c10::IValue source, sha;
    if (format < 3) {
      std::fprintf(stderr,
                   "nurec train: warning: %s records its training data in an older form; cannot "
                   "check that --data is the same\n",
                   path.c_str());
    } else if (a.try_read("data_sha256", sha) && a.try_read("data_source", source)) {
      if (sha.toStringRef() != expected.dataSha256) {
        throw ConfigError(
            path + " continues a run on other training data (" + source.toStringRef() + ", " +
            std::to_string(c[9].item<std::int64_t>()) + " events) than --data " +
            expected.dataSource + " (" + std::to_string(expected.dataEvents) +
            " events, or a different selection): resume with the data it was started on, or "
            "train into a new --out");
      }
    } else {
      std::fprintf(stderr,
                   "nurec train: warning: %s does not record its training data (older "
                   "checkpoint); cannot check that --data is the same\n",
                   path.c_str());
    }
    const int oldThreads = static_cast<int>(c[6].item<std::int64_t>());
    const int oldBatch = static_cast<int>(c[7].item<std::int64_t>());
    if (oldBatch != expected.batchSize) {
      throw ConfigError(path + ": checkpoint was written with batch size " +
                        std::to_string(oldBatch) + ", the config now says " +
                        std::to_string(expected.batchSize));
    }
    if (oldThreads != expected.threads) {
      std::fprintf(stderr,
                   "nurec train: warning: checkpoint written with %d threads, resuming with %d: "
                   "the continuation is not bit-identical (docs/ml-methods.md section 8)\n",
                   oldThreads, expected.threads);
    }
    torch::NoGradGuard ng;
    auto readInto = [&](const std::string& key, torch::Tensor dst, bool buffer) {
      torch::Tensor t;
      a.read(key, t, buffer);
      if (t.sizes() != dst.sizes()) {
        throw ConfigError(path + ": '" + key +
                          "' has another shape than the model of the config (was the "
                          "architecture changed since the run started?)");
      }
      dst.copy_(t);
    };
    for (auto& it : trainer.net->named_parameters(true))
      readInto("model." + it.key(), it.value(), false);
    for (auto& it : trainer.net->named_buffers(true))
      readInto("model." + it.key(), it.value(), true);
    for (auto& it : trainer.ema->named_parameters(true))
      readInto("ema." + it.key(), it.value(), false);
    for (auto& it : trainer.ema->named_buffers(true)) readInto("ema." + it.key(), it.value(), true);
    for (std::size_t i = 0; i < trainer.lion.momenta().size(); ++i) {
      readInto("lion." + std::to_string(i), trainer.lion.momenta()[i], true);
    }
    torch::Tensor gs;
    a.read("generator_state", gs, true);
    trainer.gen.set_state(gs);
    st.epochsDone = static_cast<int>(c[1].item<std::int64_t>());
    st.step = c[2].item<std::int64_t>();
    st.bestEpoch = static_cast<int>(c[3].item<std::int64_t>());
    st.badEpochs = static_cast<int>(c[4].item<std::int64_t>());
    st.stopped = c[5].item<std::int64_t>() != 0;
    st.skippedSteps = format >= 2 ? c[8].item<std::int64_t>() : 0;
    torch::Tensor bv;
    a.read("best_val", bv, true);
    st.bestVal = bv[0].item<double>();
    torch::Tensor hist;
    a.read("history", hist, true);
    st.history.clear();
    for (std::int64_t i = 0; i < hist.size(0); ++i) {
      EpochRecord r;
      r.epoch = static_cast<int>(hist[i][0].item<double>());
      r.trainLoss = hist[i][1].item<double>();
      r.valLoss = hist[i][2].item<double>();
      r.lr = hist[i][3].item<double>();
      r.seconds = hist[i][4].item<double>();
      st.history.push_back(r);
    }
  } catch (const c10::Error& e) {
    throw InputError(path + ": cannot read the checkpoint (" +
                     std::string(e.what_without_backtrace()) + ")");
  }
}

void writeTrainLog(const std::string& dir, const TrainState& st) {
  std::ostringstream os;
  os << "epoch,train_loss,val_loss_ema,lr,seconds\n";
  for (const auto& h : st.history) {
    char line[160];
    std::snprintf(line, sizeof line, "%d,%.6f,%.6f,%.6g,%.1f\n", h.epoch, h.trainLoss, h.valLoss,
                  h.lr, h.seconds);
    os << line;
  }
  writeTextFileAtomically((fs::path(dir) / "train_log.csv").string(), os.str());
}

bool isModelDirectoryFile(const std::string& name) {
  // What `nurec train` writes, what the model card and golden-file tooling add beside it
  // (models/<name>/), and temporaries of interrupted writes (<file>.tmp...).
  static const std::regex known(
      R"((config\.yaml|model\.pt|checkpoint\.pt|train_log\.csv|model_ts\.pt|per_channel\.yaml|)"
      R"(MODEL_CARD\.md|golden\.pt)(\.tmp\.?[0-9]+)?)");
  return std::regex_match(name, known);
}

void prepareOutputDirectory(const std::string& dir, bool resume, bool force) {
  require(!dir.empty(), "train: --out must name a directory");
  require(!(resume && force),
          "train: --resume continues the run in --out and --force replaces "
          "it; give one of them");
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (fs::exists(status) && !fs::is_directory(status)) {
    throw ConfigError("train: --out '" + dir + "' exists and is not a directory");
  }
  if (fs::is_directory(status)) {
    // Temporaries of earlier killed runs (<file>.tmp<pid>) are debris, never a model: removed
    // so that they neither accumulate nor make the directory look taken.
    std::vector<fs::path> dirs{dir};
    for (int c = 0; c < kNumChannels; ++c)
      dirs.push_back(fs::path(dir) / ("channel_" + std::to_string(c)));
    for (const auto& d : dirs) {
      if (!fs::is_directory(d, ec)) continue;
      std::vector<fs::path> stale;
      for (const auto& entry : fs::directory_iterator(d)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_regular_file() && isModelDirectoryFile(name) &&
            name.find(".tmp") != std::string::npos) {
          stale.push_back(entry.path());
        }
      }
      for (const auto& p : stale) fs::remove(p, ec);
    }
  }
  if (resume) {
    bool checkpoint = fs::exists(fs::path(dir) / "checkpoint.pt");
    for (int c = 0; c < kNumChannels; ++c) {
      checkpoint = checkpoint ||
                   fs::exists(fs::path(dir) / ("channel_" + std::to_string(c)) / "checkpoint.pt");
    }
    if (!checkpoint) {
      throw ConfigError("train --resume: '" + dir +
                        "' holds no checkpoint.pt to continue; drop --resume to start a new run");
    }
    return;
  }
  if (!fs::exists(status)) {
    fs::create_directories(dir, ec);
    if (ec) throw ConfigError("train: cannot create --out '" + dir + "': " + ec.message());
    return;
  }
  // What a --force run removes: the files nurec wrote, also inside channel_<c>/ of per-channel
  // runs. Anything else makes the directory someone else's, and nothing is removed.
  std::vector<fs::path> ours;
  std::vector<std::string> foreign;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && std::regex_match(name, std::regex("channel_[0-6]"))) {
      for (const auto& inner : fs::directory_iterator(entry.path())) {
        const std::string n = inner.path().filename().string();
        if (!inner.is_regular_file() || !isModelDirectoryFile(n)) foreign.push_back(name + "/" + n);
      }
      ours.push_back(entry.path());
    } else if (entry.is_regular_file() && isModelDirectoryFile(name)) {
      ours.push_back(entry.path());
    } else {
      foreign.push_back(name);
    }
  }
  if (ours.empty() && foreign.empty()) return;
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size() && i < 5; ++i) s += (i ? ", " : "") + v[i];
    return v.size() > 5 ? s + ", ..." : s;
  };
  if (!foreign.empty()) {
    throw ConfigError("train: --out '" + dir + "' holds files that nurec did not write (" +
                      list(foreign) + "); choose an empty or new directory");
  }
  std::vector<std::string> names;
  for (const auto& p : ours) names.push_back(p.filename().string());
  if (!force) {
    throw ConfigError("train: --out '" + dir + "' already holds a model (" + list(names) +
                      "); pass --resume to continue its checkpoint, --force to replace it, or "
                      "choose another --out");
  }
  for (const auto& p : ours) {
    fs::remove_all(p, ec);
    if (ec) throw Error("train --force: cannot remove " + p.string() + ": " + ec.message());
  }
  std::fprintf(stderr, "nurec train: --force: removed %zu file(s) of the earlier model in %s\n",
               ours.size(), dir.c_str());
}

namespace {

// Files are written by rank 0 alone; the other ranks learn whether it succeeded (ml/Communicator).
void onRoot(Communicator* comm, const std::string& what, const std::function<void()>& fn) {
  if (comm != nullptr) {
    comm->runOnRoot(what, fn);
  } else {
    fn();
  }
}

// Every rank must train the same run: the same selected data and config (a rank given another
// file or card would silently train something else, or wait forever at a collective).
void requireSameRunOnAllRanks(Communicator& comm, const TrainingSet& set,
                              const DiffusionConfig& config) {
  Sha256 sha;
  // The selected rows (each rank reads the selection columns of the whole file itself) and the run
  // card, --epochs included; the features of the other ranks' rows are not read here.
  const std::string identity = set.selectionSha256 + config.toYaml();
  sha.update(identity.data(), identity.size());
  const std::string digest = sha.hexDigest();
  const torch::Tensor mine =
      torch::from_blob(const_cast<char*>(digest.data()), {static_cast<std::int64_t>(digest.size())},
                       torch::kUInt8)
          .clone();
  const torch::Tensor root = mine.clone();
  comm.broadcastFromRoot({root}, "comparison of the training data and config of the ranks");
  const torch::Tensor differ = torch::tensor({torch::equal(mine, root) ? 0 : 1}, torch::kInt32);
  comm.allreduceSum({differ}, "comparison of the training data and config of the ranks");
  if (differ.item<int>() != 0) {
    throw ConfigError("train: rank " + std::to_string(comm.rank()) + " of " +
                      std::to_string(comm.worldSize()) + ": " + std::to_string(differ.item<int>()) +
                      " rank(s) read other training data (" + set.source +
                      ") or another config than rank 0: every rank needs the same --data, "
                      "--config, --seed and --epochs");
  }
}

TrainSummary trainOne(const DiffusionConfig& config, const std::shared_ptr<const EventSource>& data,
                      const TrainOptions& options, Communicator* comm) {
  const auto wall0 = std::chrono::steady_clock::now();
  const TrainConfig& tc = config.train;
  const bool root = comm == nullptr || comm->isRoot();
  // Data-parallel ranks share the cores: one intra-op thread each unless --threads says otherwise.
  const int threads = options.threads > 0 ? options.threads
                      : comm != nullptr   ? 1
                                          : static_cast<int>(at::get_num_threads());
  at::set_num_threads(threads);
  const std::string ckptPath = (fs::path(options.outDir) / "checkpoint.pt").string();
  onRoot(comm, "preparing " + options.outDir, [&] {
    fs::create_directories(options.outDir);
    if (!options.resume && fs::exists(ckptPath)) {
      throw ConfigError("output directory '" + options.outDir +
                        "' already holds a checkpoint: pass --resume to continue it, or choose "
                        "another --out");
    }
  });
  const int epochs = tc.epochs;  // --epochs is already in the config (trainAll)

  // Computing: data, model, optimiser (no files).
  DataOptions dataOptions;
  dataOptions.shuffleBufferEvents = options.shuffleBufferEvents;
  dataOptions.chunkEvents = options.chunkEvents;
  const TrainingSet set = prepareTrainingSet(config, data, dataOptions, comm);
  if (comm != nullptr) requireSameRunOnAllRanks(*comm, set, config);
  Trainer trainer(config, set, epochs, comm);
  CheckpointMeta meta;
  meta.threads = threads;
  meta.batchSize = tc.batchSize;
  meta.configText = config.toYaml();
  meta.dataSource = set.source;
  meta.dataSha256 = set.dataSha256;
  meta.dataEvents = set.nTrain + set.nVal;
  TrainState& st = trainer.state;
  // The checkpoint is read by rank 0 (--out need not be on a shared disk) and broadcast.
  bool resumeCheckpoint = options.resume && fs::exists(ckptPath);
  if (comm != nullptr) resumeCheckpoint = comm->broadcastFlag(resumeCheckpoint, "--resume");
  if (resumeCheckpoint) {
    onRoot(comm, "reading " + ckptPath, [&] {
      loadCheckpoint(ckptPath, trainer, meta);
      std::fprintf(stderr, "nurec train: resuming %s after epoch %d (step %lld)\n",
                   ckptPath.c_str(), st.epochsDone, static_cast<long long>(st.step));
    });
  }
  trainer.synchronise();

  TrainSummary summary;
  summary.trainEvents = static_cast<std::size_t>(set.nTrain);
  summary.valEvents = static_cast<std::size_t>(set.nVal);
  const int firstEpoch = st.epochsDone;
  const bool tty = isatty(STDERR_FILENO) != 0;
  bool interrupted = false;
  for (int epoch = st.epochsDone; epoch < epochs && !st.stopped; ++epoch) {
    if (options.stopAfterEpochs > 0 && epoch - firstEpoch >= options.stopAfterEpochs) {
      interrupted = true;
      break;
    }
    Trainer::EpochResult r;
    try {
      r = trainer.runEpoch(options.progress);
    } catch (const TrainingDiverged& e) {
      const std::string kept =
          st.bestEpoch > 0 ? "; " + options.outDir + " keeps the model of epoch " +
                                 std::to_string(st.bestEpoch) + " and the checkpoint of epoch " +
                                 std::to_string(st.epochsDone)
                           : "; no model was written";
      throw TrainingDiverged(std::string(e.what()) + kept);
    }
    // Writing: best EMA weights = the model, checkpoint, log.
    onRoot(comm, "writing the checkpoint of epoch " + std::to_string(epoch + 1), [&] {
      if (r.improved) saveModelDir(trainer.ema, config, options.outDir);
      saveCheckpoint(ckptPath, trainer, meta);
      writeTrainLog(options.outDir, st);
    });
    if (options.progress && root) {
      std::fprintf(
          stderr, "%sepoch %d/%d: train loss %.4f, validation loss (EMA) %.4f%s, %.0f s%s\n",
          tty ? "\r" : "", epoch + 1, epochs, r.record.trainLoss, r.record.valLoss,
          r.improved ? " (best)" : "", r.record.seconds, st.stopped ? " - early stop" : "");
    }
  }
  // A run that ends without a model is a failure, never a summary with exit 0.
  if (!interrupted &&
      (st.bestEpoch == 0 || (root && !fs::exists(fs::path(options.outDir) / "model.pt")))) {
    throw Error("train: no model was written to " + options.outDir +
                " (no epoch reached a finite validation loss)");
  }
  if (st.skippedSteps > 0 && root) {
    std::fprintf(stderr, "nurec train: warning: %lld step(s) with a non-finite loss were skipped\n",
                 static_cast<long long>(st.skippedSteps));
  }
  summary.epochsRun = st.epochsDone;
  summary.bestEpoch = st.bestEpoch;
  summary.bestValLoss = st.bestVal;
  summary.earlyStopped = st.stopped;
  summary.history = st.history;
  summary.skippedSteps = st.skippedSteps;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  summary.samplesPerSecond = trainer.samplesThisRun / std::max(summary.seconds, 1e-9);
  if (options.exportTorchScript && st.bestEpoch > 0 && (st.stopped || st.epochsDone >= epochs)) {
    onRoot(comm, "exporting TorchScript", [&] {
      exportTorchScript(options.outDir, (fs::path(options.outDir) / "model_ts.pt").string());
    });
  }
  return summary;
}

TrainSummary trainAll(const DiffusionConfig& card, const std::shared_ptr<const EventSource>& data,
                      const TrainOptions& options) {
  card.validate();
  if (options.epochsOverride > kMaxEpochs) {
    throw ConfigError("train: --epochs must be in [1, " + std::to_string(kMaxEpochs) + "]");
  }
  // The run as made: with --epochs the cosine schedule runs over that many epochs, and every
  // config written (model directories, checkpoints, per_channel.yaml) says so.
  DiffusionConfig config = card;
  if (options.epochsOverride > 0) config.train.epochs = options.epochsOverride;
  std::unique_ptr<Communicator> comm;
  if (options.dist.distributed()) {
    const int ranks = options.dist.worldSize;
    if (config.train.batchSize % ranks != 0) {
      throw ConfigError("train: train.batch_size " + std::to_string(config.train.batchSize) +
                        " is not divisible by the " + std::to_string(ranks) +
                        " ranks: it is the global batch, split evenly over the ranks "
                        "(docs/distributed.md); choose a multiple of " +
                        std::to_string(ranks));
    }
    require(std::isfinite(options.distTimeoutSeconds) && options.distTimeoutSeconds >= 1 &&
                options.distTimeoutSeconds <= 86400,
            "train: --dist-timeout must be in [1, 86400] seconds");
    comm = std::make_unique<Communicator>(options.dist,
                                          std::chrono::milliseconds(static_cast<std::int64_t>(
                                              std::llround(options.distTimeoutSeconds * 1000))));
    if (comm->isRoot()) {
      std::fprintf(stderr, "train: data-parallel over %s\n", options.dist.describe().c_str());
    }
  }
  onRoot(comm.get(), "preparing " + options.outDir,
         [&] { prepareOutputDirectory(options.outDir, options.resume, options.force); });
  if (config.train.channelMode == "shared") return trainOne(config, data, options, comm.get());
  TrainSummary last;
  std::vector<int> channels = config.train.channels;
  if (channels.empty()) {
    for (int c = 0; c < kNumChannels; ++c) channels.push_back(c);
  }
  for (int c : channels) {
    DiffusionConfig cc = config;
    cc.train.channelMode = "shared";
    cc.train.channels = {c};
    TrainOptions o = options;
    o.outDir = (fs::path(options.outDir) / ("channel_" + std::to_string(c))).string();
    // Channels not started before the interruption start now.
    o.resume = options.resume && fs::exists(fs::path(o.outDir) / "checkpoint.pt");
    if (comm) o.resume = comm->broadcastFlag(o.resume, "--resume of channel " + std::to_string(c));
    if (!comm || comm->isRoot()) {
      std::fprintf(stderr, "nurec train: per-channel model for channel %d -> %s\n", c,
                   o.outDir.c_str());
    }
    last = trainOne(cc, data, o, comm.get());
  }
  onRoot(comm.get(), "writing per_channel.yaml", [&] {
    writeTextFileAtomically((fs::path(options.outDir) / "per_channel.yaml").string(),
                            config.toYaml());
  });
  return last;
}

}  // namespace

TrainSummary trainDiffusion(const DiffusionConfig& config, const io::EventTable& data,
                            const TrainOptions& options) {
  return trainDiffusion(config, tableSource(data), options);
}

TrainSummary trainDiffusion(const DiffusionConfig& config,
                            const std::shared_ptr<const EventSource>& data,
                            const TrainOptions& options) {
  // The ML boundary: LibTorch errors and allocation failures become nurec errors with one line of
  // text instead of a stack trace (docs/reliability.md).
  try {
    return trainAll(config, data, options);
  } catch (const c10::Error& e) {
    throw Error("train: LibTorch error: " + firstLineOf(e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    throw Error("train: out of memory; use a smaller model, train.batch_size or train.max_events");
  }
}

}  // namespace nurec::ml
