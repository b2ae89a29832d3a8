// ONNX export (ml/OnnxExport.hpp, docs/onnx.md): the TorchScript module of ml/Export.cpp is
// written to a staging folder and tools/onnx_export.py (python3 with torch and onnx) traces it;
// the sidecar and the reference are written here, from the same C++ objects that
// `nurec reconstruct --method diffusion` uses, so that they cannot drift from it.
#include "nurec/ml/OnnxExport.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/Event.hpp"
#include "nurec/core/Random.hpp"
#include "nurec/core/ShippedFiles.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/ml/Api.hpp"
#include "nurec/ml/Export.hpp"
#include "nurec/ml/Features.hpp"
#include "nurec/ml/Integrity.hpp"
#include "nurec/ml/Net.hpp"
#include "nurec/ml/Resources.hpp"
#include "nurec/ml/Schedule.hpp"

namespace nurec::ml {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;  // keeps the order written, for readers of the sidecar

void OnnxExportOptions::validate() const {
  require(!modelDir.empty(), "export-model: the model directory is empty");
  require(!outDir.empty(), "export-model: --out is empty");
  require(!python.empty(), "export-model: --python is empty");
  auto range = [](const char* what, long long v, long long lo, long long hi) {
    if (v < lo || v > hi) {
      throw ConfigError("export-model: " + std::string(what) + " must be in [" +
                        std::to_string(lo) + ", " + std::to_string(hi) + "] (got " +
                        std::to_string(v) + ")");
    }
  };
  range("--reference-events", referenceCount, 1, 1000);
  range("--candidates", candidates, 1, kMaxCandidates);
  range("the ONNX opset", opset, 13, 17);  // 17: the newest torch 1.13 writes
}

namespace {

// Names shared with tools/onnx_export.py (the Node check reads them from model.json, so a
// mismatch fails the test).
struct OnnxIo {
  const char* file;
  std::vector<std::pair<std::string, json>> inputs, outputs;  // name -> shape
};

// decoder.onnx depends on train.target_frame (docs/onnx.md "Files"): lab-frame targets need |p| of
// the visible taus and the canonical rotation, visible-frame ones the visible taus' lab momenta.
std::vector<OnnxIo> onnxFiles(int features, int condWidth, bool visibleTargets) {
  OnnxIo decoder{"decoder.onnx",
                 {{"z", {"batch", "candidates", kNumTargets}},
                  {"vis_p", {"batch", 2}},
                  {"rotation", {"batch"}}},
                 {{"nu", {"batch", "candidates", 2, 3}}}};
  if (visibleTargets) {
    decoder.inputs = {{"z", {"batch", "candidates", kNumTargets}}, {"vis", {"batch", 2, 3}}};
  }
  return {
      {"encoder.onnx",
       {{"x", {"batch", kNumSlots, features}},
        {"mask", {"batch", kNumSlots}},
        {"channel", {"batch"}}},
       {{"cond", {"batch", condWidth}}}},
      {"denoiser.onnx",
       {{"cond", {"batch", condWidth}},
        {"z", {"batch", "candidates", kNumTargets}},
        {"t", {"time_batch"}}},
       {{"v", {"batch", "candidates", kNumTargets}}}},
      decoder,
  };
}

json channelNames() {
  json names = json::array();
  for (int c = 0; c < kNumChannels; ++c) names.push_back(channelName(static_cast<Channel>(c)));
  return names;
}

json featureList(const InputConfig& in) {
  json f = json::array();
  auto add = [&](const char* name, const char* unit, const char* meaning) {
    f.push_back({{"index", f.size()}, {"name", name}, {"unit", unit}, {"meaning", meaning}});
  };
  // docs/data-format.md "The ML point cloud"
  add("log_pt", "log(GeV)", "log(pT / GeV); MET token: log(MET / GeV)");
  add("eta", "", "pseudorapidity; MET token: 0");
  add("phi", "rad", "azimuth, rotated by `rotation` when azimuth is canonical");
  add("log_e", "log(GeV)", "log(E / GeV); MET token: log(MET / GeV)");
  add("charge", "e", "-1, 0, +1");
  add("is_track", "", "one-hot type: charged-pion track");
  add("is_pi0", "", "one-hot type: pi0 cluster");
  add("is_e", "", "one-hot type: electron");
  add("is_mu", "", "one-hot type: muon");
  add("is_jet", "", "one-hot type: jet");
  add("is_met", "", "one-hot type: missing transverse momentum");
  add("px", "50 GeV", "px / 50 GeV, rotated by `rotation` when azimuth is canonical");
  add("py", "50 GeV", "py / 50 GeV, rotated by `rotation` when azimuth is canonical");
  if (in.impactParameters) {  // ml/Features.cpp ExtraInputs; slots 0 and 2 only
    add("ip_d0", "", "asinh(d0 / 0.1 mm) of the tau-candidate track (slots 0, 2)");
    add("ip_z0", "", "asinh(z0 / 0.1 mm) of the tau-candidate track (slots 0, 2)");
    add("ip_d0_significance", "", "asinh(d0 / sigma_d0), 0 if sigma_d0 <= 0 (slots 0, 2)");
    add("ip_z0_significance", "", "asinh(z0 / sigma_z0), 0 if sigma_z0 <= 0 (slots 0, 2)");
  }
  if (in.activity) add("log_sum_et", "", "log(max(sum E_T / GeV, 1) / 200) on the MET slot (9)");
  if (in.fastMtt) {  // FastMTT with default settings, run on the event; 0 where it fails
    add("fastmtt_log_inv_x", "", "ln(1/x), x = the tau's visible momentum fraction (slots 0, 2)");
    add("fastmtt_log_m", "", "ln(m_tautau / 100 GeV) of FastMTT on the MET slot (9)");
    add("fastmtt_rel_width", "", "sigma_m / m of FastMTT's mass likelihood on the MET slot (9)");
  }
  if (in.visibleFrame) {  // ml/Features.cpp ExtraInputs; slots 0 and 2 only
    add("vis_track_p_e1", "GeV", "track momentum along e1 of its visible tau (slots 0, 2)");
    add("vis_track_p_e2", "GeV", "track momentum along e2 of its visible tau (slots 0, 2)");
    if (in.impactParameters) {
      add("vis_ip_e1", "", "asinh(IP vector . e1 / 0.1 mm) (slots 0, 2)");
      add("vis_ip_e2", "", "asinh(IP vector . e2 / 0.1 mm) (slots 0, 2)");
    }
  }
  return f;
}

std::vector<float> toVector(const torch::Tensor& t) {
  const torch::Tensor c = t.to(torch::kFloat32).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

std::string fileSha256(const fs::path& path) {
  const std::string bytes = readFileBytes(path.string());
  return sha256Hex(bytes.data(), bytes.size());
}

json samplerGridJson(const SamplerGrid& grid) {
  json g;
  std::vector<double> t, alpha, sigma, zc, vc, nc, w, wp, dc;
  for (const SamplerStep& s : grid.steps) {
    t.push_back(s.t);
    alpha.push_back(s.alpha);
    sigma.push_back(s.sigma);
    zc.push_back(s.zCoef);
    vc.push_back(s.vCoef);
    nc.push_back(s.noiseCoef);
    w.push_back(s.w);
    wp.push_back(s.wPrev);
    dc.push_back(s.dCoef);
  }
  g["t"] = t;
  g["alpha"] = alpha;
  g["sigma"] = sigma;
  g["z_coef"] = zc;
  if (grid.kind == SamplerKind::Ddim) {
    g["v_coef"] = vc;
    g["noise_coef"] = nc;
  } else {
    g["w"] = w;
    g["w_prev"] = wp;
    g["d_coef"] = dc;
  }
  return g;
}

json sidecar(const LoadedModel& lm, const OnnxExportOptions& o, const std::string& stagingDir) {
  const DiffusionConfig& cfg = lm.config;
  DiffusionNet net = lm.net;
  const int F = cfg.inputs.numFeatures();
  const int W = cfg.head.width;
  const BoundedCosineSchedule schedule(cfg.schedule.lambdaMin, cfg.schedule.lambdaMax);
  const SamplerKind kind = samplerKindFromName(cfg.sampler.name);
  const SamplerGrid grid = makeSamplerGrid(schedule, kind, cfg.sampler.steps, cfg.sampler.eta);
  const bool visible = targetFrameFromName(cfg.train.targetFrame) == TargetFrame::Visible;
  const bool canonical = cfg.train.azimuth == "canonical";
  json j;
  j["format"] = "nurec-onnx";
  j["format_version"] = 1;
  j["opset"] = o.opset;
  j["model"] = {{"source", o.modelDir},
                {"weights_sha256", weightsChecksum(*net)},
                {"model_pt_sha256", fileSha256(fs::path(o.modelDir) / "model.pt")},
                {"folds", "none: one model for all events (nurec models have no even/odd folds)"},
                {"config_yaml", cfg.toYaml()}};
  // docs/ml-methods.md section 1 "Target frame"; it sets the decoder's inputs.
  j["target_frame"] = cfg.train.targetFrame;
  json files = json::object();
  for (const OnnxIo& io : onnxFiles(F, W, visible)) {
    json in = json::array(), out = json::array();
    for (const auto& [name, shape] : io.inputs)
      in.push_back({{"name", name}, {"shape", shape}, {"dtype", "float32"}});
    for (const auto& [name, shape] : io.outputs)
      out.push_back({{"name", name}, {"shape", shape}, {"dtype", "float32"}});
    json entry;
    entry["file"] = io.file;
    entry["sha256"] = fileSha256(fs::path(stagingDir) / io.file);
    entry["inputs"] = in;
    entry["outputs"] = out;
    files[fs::path(io.file).stem().string()] = entry;
  }
  j["files"] = files;
  std::string rotation = "none";
  if (canonical) {
    rotation =
        "delta = -atan2(py, px) of the visible tau with the higher pT: phi -> wrap(phi + delta), "
        "(px, py) -> R(delta)(px, py) for every filled slot before the encoder";
  }
  if (visible) {
    rotation += "; the decoder takes no rotation (visible target frame)";
  } else {
    rotation += canonical ? "; decoder input `rotation` = delta" : ": decoder input `rotation` = 0";
  }
  j["inputs"] = {
      {"slots", kNumSlots},
      {"slot_layout",
       {"tau+ track or lepton", "tau+ pi0 cluster", "tau- track or lepton", "tau- pi0 cluster",
        "jet 1", "jet 2", "jet 3", "jet 4", "jet 5", "missing transverse momentum"}},
      {"features", featureList(cfg.inputs)},
      {"mask", "1 for a filled slot, 0 for an empty one (its features are ignored)"},
      {"channel", "/reco/channel, 0..6, as float"},
      {"channel_names", channelNames()},
      {"azimuth", cfg.train.azimuth},
      {"rotation", rotation}};
  if (visible) {
    j["inputs"]["vis"] =
        "(px, py, pz) in GeV of the visible tau+ and tau- (/reco/tau_p4), lab frame: not rotated";
  } else {
    j["inputs"]["vis_p"] = "|p| in GeV of the visible tau+ and tau- (/reco/tau_p4)";
  }
  j["normalisation"] = {
      {"features", "inside encoder.onnx: (x - x_mean) / x_std on filled slots"},
      {"targets",
       visible
           ? "inside decoder.onnx: y = z * y_std + y_mean per tau; u = vis / |vis|, e2 = (-u_y, "
             "u_x, 0) / hypot(u_x, u_y) ((0, 1, 0) if hypot < 1e-12), e1 = e2 x u; nu = y0 e1 "
             "+ y1 e2 + y2 |vis| u (lab frame, no rotation)"
           : "inside decoder.onnx: nu = (z * y_std + y_mean) * vis_p per tau, rotated by "
             "-rotation about z"},
      {"x_mean", toVector(net->named_buffers()["x_mean"])},
      {"x_std", toVector(net->named_buffers()["x_std"])},
      {"y_mean", toVector(net->yMean())},
      {"y_std", toVector(net->yStd())}};
  j["outputs"] = {
      {"cond_width", W},
      {"z", visible
                ? "normalised target (B, K, 6): (nu.e1 / GeV, nu.e2 / GeV, nu.u / |vis|) of the nu "
                  "system of tau+, then tau-, in its visible tau's frame"
                : "normalised target (B, K, 6): (px, py, pz) / vis_p of the nu system of tau+, "
                  "then tau-, rotated by `rotation` about z"},
      {"v", "v-prediction (B, K, 6), normalised units"},
      {"nu", "(B, K, 2, 3): (px, py, pz) in GeV of the nu system of tau+ then tau-, lab frame"}};
  j["schedule"] = {{"name", "bounded cosine log-SNR (variance preserving)"},
                   {"lambda_min", cfg.schedule.lambdaMin},
                   {"lambda_max", cfg.schedule.lambdaMax},
                   {"a", schedule.angleScale()},
                   {"b", schedule.angleOffset()},
                   {"definition",
                    "lambda(t) = -2 log tan(a t + b), alpha(t) = sqrt(sigmoid(lambda)), sigma(t) = "
                    "sqrt(sigmoid(-lambda)), z_t = alpha x + sigma eps, v = alpha eps - sigma x"}};
  j["sampler"] = {
      {"name", cfg.sampler.name},
      {"steps", cfg.sampler.steps},
      {"eta", grid.eta},
      {"candidates", o.candidates},
      {"noise_per_step", grid.drawsNoisePerStep()},
      {"start", "z = standard normal (B, K, 6) at t = 1"},
      {"update",
       kind == SamplerKind::Ddim
           ? "for i in 0..steps-1: v = denoiser(cond, z, t[i]); z = z_coef[i] z + v_coef[i] v "
             "(+ noise_coef[i] xi, xi standard normal, when noise_per_step)"
           : "xhat_prev = 0; for i in 0..steps-1: v = denoiser(cond, z, t[i]); xhat = alpha[i] z "
             "- sigma[i] v; D = w[i] xhat + w_prev[i] xhat_prev; z = z_coef[i] z + d_coef[i] D; "
             "xhat_prev = xhat"},
      {"grid", samplerGridJson(grid)}};
  return j;
}

// Rows of the first `count` events with a reconstructed channel.
std::vector<std::size_t> referenceRows(const io::EventTable& table, int count) {
  std::vector<std::size_t> rows = selectRows(table, false, {});
  if (rows.empty()) {
    throw InputError(table.source() +
                     ": no event has a reconstructed channel (/reco/channel "
                     "0..6), so there is nothing to write a reference for");
  }
  if (rows.size() > static_cast<std::size_t>(count)) rows.resize(count);
  return rows;
}

json reference(const LoadedModel& lm, const OnnxExportOptions& o) {
  const io::EventTable full = io::readEventFile(o.referenceEvents);
  const std::vector<std::size_t> rows = referenceRows(full, o.referenceCount);
  // A prefix of the file keeps the row numbers, which seed the per-event noise (core/Random.hpp),
  // so these candidates are those of `reconstruct --method diffusion` on the whole file.
  std::vector<std::size_t> prefix(rows.back() + 1);
  for (std::size_t i = 0; i < prefix.size(); ++i) prefix[i] = i;
  io::EventTable table = full.selectRows(prefix);
  table.setSource(full.source());
  DiffusionReconstructOptions ro;
  ro.modelDir = o.modelDir;
  ro.candidates = o.candidates;
  ro.seed = o.seed;
  ro.threads = 1;
  ro.methodName = "onnx_reference";
  reconstructDiffusion(table, ro);
  const auto K = static_cast<std::size_t>(o.candidates);
  const auto cand = table.get<float>(io::nuCandidatesName(ro.methodName), {K, 2, 3});
  const auto status = table.get<std::int8_t>(io::nuStatusName(ro.methodName), {});

  const DiffusionConfig& cfg = lm.config;
  DiffusionNet net = lm.net;
  const EventData ed =
      buildEventData(table, rows, cfg.train.azimuth == "canonical", false, cfg.inputs);
  const auto B = static_cast<std::int64_t>(ed.n);
  const std::int64_t F = ed.features();
  torch::InferenceMode guard;
  const torch::Tensor x =
      torch::from_blob(const_cast<float*>(ed.x.data()), {B, kNumSlots, F}).clone();
  const torch::Tensor mask =
      torch::from_blob(const_cast<std::uint8_t*>(ed.mask.data()), {B, kNumSlots}, torch::kUInt8)
          .to(torch::kBool);
  const torch::Tensor ch =
      torch::from_blob(const_cast<std::int64_t*>(ed.channel.data()), {B}, torch::kInt64).clone();
  const torch::Tensor cond = net->encode(x, mask, ch);

  const BoundedCosineSchedule schedule(cfg.schedule.lambdaMin, cfg.schedule.lambdaMax);
  const SamplerGrid grid = makeSamplerGrid(schedule, samplerKindFromName(cfg.sampler.name),
                                           cfg.sampler.steps, cfg.sampler.eta);
  // The noise of ml/Sampler.cpp: per event K*6 start values, then K*6 per step when DDIM eta > 0.
  const std::size_t draws = 1 + (grid.drawsNoisePerStep() ? grid.steps.size() : 0);
  const std::size_t perDraw = K * kNumTargets;
  std::vector<float> noise;
  noise.reserve(ed.n * draws * perDraw);
  for (std::size_t e = 0; e < ed.n; ++e) {
    Rng rng(o.seed, ed.row[e], streams::ml);
    for (std::size_t i = 0; i < draws * perDraw; ++i)
      noise.push_back(static_cast<float>(rng.normal()));
  }
  torch::Tensor z0 = torch::empty({B, static_cast<std::int64_t>(K), kNumTargets});
  for (std::size_t e = 0; e < ed.n; ++e) {
    std::copy_n(&noise[e * draws * perDraw], perDraw, z0.data_ptr<float>() + e * perDraw);
  }
  json den = json::array();
  for (double t : {grid.steps.front().t, 0.5, grid.steps.back().t}) {
    const torch::Tensor tt = torch::full({1}, t);
    const torch::Tensor v = net->velocity(cond, net->timeEmbedding(tt), z0);
    den.push_back({{"t", static_cast<float>(t)}, {"z", toVector(z0)}, {"v", toVector(v)}});
  }
  std::vector<double> vis;  // (events, 2, 3): decoder input `vis` of visible-frame models
  for (std::size_t i = 0; i < ed.visP4.size(); ++i) {
    if (i % 4 != 3) vis.push_back(ed.visP4[i]);
  }
  std::vector<float> candidates, mf(ed.mask.begin(), ed.mask.end()), chf;
  std::vector<int> st;
  for (std::size_t e = 0; e < ed.n; ++e) {
    const std::size_t r = ed.row[e];
    candidates.insert(candidates.end(), &cand[r * K * 6], &cand[r * K * 6] + K * 6);
    st.push_back(status[r]);
    chf.push_back(static_cast<float>(ed.channel[e]));
  }
  return {{"source", o.referenceEvents},
          {"seed", o.seed},
          {"candidates", K},
          {"events", ed.n},
          {"rows", ed.row},
          {"features", F},
          {"x", ed.x},
          {"mask", mf},
          {"channel", chf},
          {"vis_p", ed.visP},
          {"vis", vis},
          {"rotation", ed.rotation},
          {"cond", toVector(cond)},
          {"denoiser", den},
          {"noise_draws", draws},
          {"noise", noise},
          {"nu_candidates", candidates},
          {"status", st},
          {"note",
           "nu_candidates (events, K, 2, 3) GeV from reconstructDiffusion (as `nurec reconstruct "
           "--method diffusion --seed S --candidates K`); noise: per event noise_draws blocks of "
           "K*6 standard normals, the start value then one per sampler step"}};
}

// Runs argv[0] with stdout and stderr into `logFile`; returns the wait status.
int runProcess(const std::vector<std::string>& args, const std::string& logFile) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw Error("export-model: cannot start " + args[0] + ": " + std::strerror(errno));
  if (pid == 0) {
    const int fd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execvp(argv[0], argv.data());
    const std::string msg = std::string("onnx_export: cannot run the Python interpreter '") +
                            argv[0] + "' (" + std::strerror(errno) + ")\n";
    [[maybe_unused]] const auto n = ::write(2, msg.data(), msg.size());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string lastLineOf(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

void writeJson(const fs::path& path, const json& j, int indent) {
  writeTextFileAtomically(path.string(), j.dump(indent) + "\n");
}

void exportChecked(const OnnxExportOptions& o) {
  if (fs::exists(o.outDir) && !fs::is_directory(o.outDir)) {
    throw ConfigError("export-model: --out '" + o.outDir +
                      "' is a file; with --format onnx it names a folder (created if missing)");
  }
  if (!fs::exists(fs::path(o.modelDir) / "model.pt") &&
      fs::exists(fs::path(o.modelDir) / "channel_0" / "model.pt")) {
    throw ConfigError("export-model: '" + o.modelDir +
                      "' is a per-channel model set; export each channel_<c>/ folder on its own");
  }
  LoadedModel lm = loadModelDir(o.modelDir);
  const std::string script = o.script.empty() ? shippedFile("tools/onnx_export.py") : o.script;
  if (!fs::exists(script)) {
    throw Error("export-model: the ONNX exporter tools/onnx_export.py is missing (" +
                (o.script.empty() ? shippedFileSearchText("tools/onnx_export.py") : script) + ")");
  }
  if (!o.referenceEvents.empty() && !fs::exists(o.referenceEvents)) {
    throw InputError("export-model: --reference '" + o.referenceEvents + "': no such file");
  }
  StagedDirectory staged(o.outDir);
  const fs::path stage(staged.path());
  const fs::path work = stage / ".work";  // removed before commit: not part of the export
  fs::create_directories(work);
  {
    torch::jit::Module m = buildTorchScript(lm.net, lm.config);
    std::ostringstream bytes;
    m.save(bytes);
    writeTextFileAtomically((work / "model_ts.pt").string(), bytes.str());
  }
  const std::string log = (work / "python.log").string();
  const int status = runProcess({o.python, script, (work / "model_ts.pt").string(), stage.string(),
                                 "--opset", std::to_string(o.opset)},
                                log);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string why = lastLineOf(log);
    if (why.empty()) {
      why = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                : "exit code " + std::to_string(WEXITSTATUS(status));
    }
    throw Error("export-model: the ONNX export with " + o.python + " failed: " + why);
  }
  fs::remove_all(work);
  writeJson(stage / "model.json", sidecar(lm, o, stage.string()), 1);
  if (!o.referenceEvents.empty()) writeJson(stage / "reference.json", reference(lm, o), -1);
  staged.commit();
  // A reference of an earlier export would describe other weights.
  std::error_code ec;
  if (o.referenceEvents.empty()) fs::remove(fs::path(o.outDir) / "reference.json", ec);
}

}  // namespace

void exportOnnx(const OnnxExportOptions& options) {
  options.validate();
  try {
    exportChecked(options);
  } catch (const c10::Error& e) {
    throw Error("cannot export '" + options.modelDir + "' to ONNX (" +
                firstLineOf(e.what_without_backtrace()) + ")");
  } catch (const fs::filesystem_error& e) {
    throw Error("export-model: cannot write '" + options.outDir + "': " + e.what());
  }
}

}  // namespace nurec::ml
