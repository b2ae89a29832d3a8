#include "nurec/ml/Config.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>
#include <sstream>

#include "nurec/core/Error.hpp"
#include "nurec/core/TextFile.hpp"
#include "nurec/ml/Calibration.hpp"
#include "nurec/ml/Resources.hpp"
#include "nurec/ml/Schedule.hpp"

namespace nurec::ml {

namespace {

// Reads node[key] into value if present; records the key as known.
template <class T>
void read(const YAML::Node& node, const char* key, T& value, std::set<std::string>& known,
          const std::string& where) {
  known.insert(key);
  if (!node[key]) return;
  try {
    value = node[key].as<T>();
  } catch (const YAML::Exception& e) {
    throw ConfigError(where + ": key '" + key + "' has the wrong type (" + e.what() + ")");
  }
}

void rejectUnknown(const YAML::Node& node, const std::set<std::string>& known,
                   const std::string& where) {
  if (!node.IsMap()) throw ConfigError(where + ": expected a mapping");
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    if (!known.count(key)) throw ConfigError(where + ": unknown key '" + key + "'");
  }
}

}  // namespace

void DiffusionConfig::validate() const {
  // Upper bounds keep a typo (width: 100000) from asking for tens of GB (docs/reliability.md);
  // messages give the valid range and the value found.
  auto range = [](const char* key, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi)) {
      std::ostringstream m;
      m << key << " must be in [" << lo << ", " << hi << "] (got " << v << ")";
      throw ConfigError(m.str());
    }
  };
  const auto& e = encoder;
  range("encoder.width", e.width, 1, kMaxWidth);
  range("encoder.heads", e.heads, 1, kMaxDepth);
  require(e.width % e.heads == 0, "encoder.width must be a multiple of encoder.heads (got " +
                                      std::to_string(e.width) + " and " + std::to_string(e.heads) +
                                      ")");
  range("encoder.layers", e.layers, 0, kMaxDepth);
  range("encoder.knn", e.knn, 1, kNumSlots - 1);
  range("encoder.mlp_ratio", e.mlpRatio, 1, 16);
  range("encoder.cond_dim", e.condDim, 1, kMaxWidth);
  require(e.layerScaleInit > 0 && std::isfinite(e.layerScaleInit),
          "encoder.layer_scale_init must be > 0");
  const auto& h = head;
  range("head.width", h.width, 1, kMaxWidth);
  range("head.blocks", h.blocks, 1, kMaxDepth);
  range("head.mlp_ratio", h.mlpRatio, 1, 16);
  range("head.time_frequencies", h.timeFrequencies, 1, 1024);
  range("head.channel_embedding", h.channelEmbedding, 1, 1024);
  require(std::isfinite(schedule.lambdaMin) && std::isfinite(schedule.lambdaMax) &&
              schedule.lambdaMax > schedule.lambdaMin,
          "schedule.lambda_max must exceed lambda_min (both finite)");
  requireOneOf(sampler.name, kSamplerNames, "sampler.name");
  range("sampler.steps", sampler.steps, 1, kMaxSamplerSteps);
  range("sampler.eta", sampler.eta, 0, 1);
  try {
    selectionRuleFromName(sampler.selection);
  } catch (const ConfigError& bad) {
    throw ConfigError(std::string("sampler.selection: ") + bad.what());
  }
  const auto& t = train;
  range("train.epochs", t.epochs, 1, kMaxEpochs);
  range("train.batch_size", t.batchSize, 2, kMaxTrainBatch);
  require(t.lrPeak > 0 && std::isfinite(t.lrPeak) && t.lrMin >= 0 && t.lrMin <= t.lrPeak,
          "need 0 <= train.lr_min <= lr_peak, lr_peak > 0 and finite");
  range("train.warmup_steps", t.warmupSteps, 1, 1e9);
  require(t.weightDecay >= 0 && std::isfinite(t.weightDecay), "train.weight_decay must be >= 0");
  require(t.beta1 >= 0 && t.beta1 < 1 && t.beta2 >= 0 && t.beta2 < 1, "train.beta1/2 in [0, 1)");
  require(t.emaDecay >= 0 && t.emaDecay < 1, "train.ema_decay must be in [0, 1)");
  require(!std::isnan(t.gradClip), "train.grad_clip must be a number (<= 0 disables clipping)");
  range("train.patience", t.patience, 1, kMaxEpochs);
  range("train.max_skipped_steps", t.maxSkippedSteps, 0, 1e9);
  requireOneOf(t.azimuth, {"augment", "canonical", "none"}, "train.azimuth");
  requireOneOf(t.targetFrame, {"lab", "visible"}, "train.target_frame");
  requireOneOf(t.channelMode, {"shared", "per_channel"}, "train.channel_mode");
  for (int c : t.channels) require(c >= 0 && c < kNumChannels, "train.channels: values in 0..6");
  require(t.maxEvents >= 0, "train.max_events must be >= 0");
  range("train.validation_modulus", t.validationModulus, 2, 1e9);
}

DiffusionConfig DiffusionConfig::fromYaml(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ": not valid YAML (" + e.what() + ")");
  }
  DiffusionConfig c;
  // An empty card would silently train the built-in defaults: almost always the wrong file.
  if (root.IsNull()) {
    throw ConfigError(
        source +
        ": the run card is empty; give at least one section (inputs, encoder, "
        "head, schedule, sampler, train), e.g. start from configs/diffusion_ztautau.yaml");
  }
  std::set<std::string> knownTop{"inputs", "encoder", "head", "schedule", "sampler", "train"};
  rejectUnknown(root, knownTop, source);
  auto section = [&](const char* name) {
    return root[name] ? root[name] : YAML::Node(YAML::NodeType::Map);
  };
  {
    const auto n = section("inputs");
    const std::string w = source + ": inputs";
    std::set<std::string> k;
    read(n, "impact_parameters", c.inputs.impactParameters, k, w);
    read(n, "activity", c.inputs.activity, k, w);
    read(n, "fastmtt", c.inputs.fastMtt, k, w);
    read(n, "visible_frame", c.inputs.visibleFrame, k, w);
    rejectUnknown(n, k, w);
  }
  {
    const auto n = section("encoder");
    const std::string w = source + ": encoder";
    std::set<std::string> k;
    read(n, "width", c.encoder.width, k, w);
    read(n, "heads", c.encoder.heads, k, w);
    read(n, "layers", c.encoder.layers, k, w);
    read(n, "knn", c.encoder.knn, k, w);
    read(n, "mlp_ratio", c.encoder.mlpRatio, k, w);
    read(n, "cond_dim", c.encoder.condDim, k, w);
    read(n, "layer_scale_init", c.encoder.layerScaleInit, k, w);
    rejectUnknown(n, k, w);
  }
  {
    const auto n = section("head");
    const std::string w = source + ": head";
    std::set<std::string> k;
    read(n, "width", c.head.width, k, w);
    read(n, "blocks", c.head.blocks, k, w);
    read(n, "mlp_ratio", c.head.mlpRatio, k, w);
    read(n, "time_frequencies", c.head.timeFrequencies, k, w);
    read(n, "channel_embedding", c.head.channelEmbedding, k, w);
    rejectUnknown(n, k, w);
  }
  {
    const auto n = section("schedule");
    const std::string w = source + ": schedule";
    std::set<std::string> k;
    read(n, "lambda_min", c.schedule.lambdaMin, k, w);
    read(n, "lambda_max", c.schedule.lambdaMax, k, w);
    rejectUnknown(n, k, w);
  }
  {
    const auto n = section("sampler");
    const std::string w = source + ": sampler";
    std::set<std::string> k;
    read(n, "name", c.sampler.name, k, w);
    read(n, "steps", c.sampler.steps, k, w);
    read(n, "eta", c.sampler.eta, k, w);
    read(n, "selection", c.sampler.selection, k, w);
    rejectUnknown(n, k, w);
  }
  {
    const auto n = section("train");
    const std::string w = source + ": train";
    std::set<std::string> k;
    auto& t = c.train;
    read(n, "epochs", t.epochs, k, w);
    read(n, "batch_size", t.batchSize, k, w);
    read(n, "lr_peak", t.lrPeak, k, w);
    read(n, "lr_min", t.lrMin, k, w);
    read(n, "warmup_steps", t.warmupSteps, k, w);
    read(n, "weight_decay", t.weightDecay, k, w);
    read(n, "beta1", t.beta1, k, w);
    read(n, "beta2", t.beta2, k, w);
    read(n, "ema_decay", t.emaDecay, k, w);
    read(n, "grad_clip", t.gradClip, k, w);
    read(n, "patience", t.patience, k, w);
    read(n, "seed", t.seed, k, w);
    read(n, "azimuth", t.azimuth, k, w);
    read(n, "target_frame", t.targetFrame, k, w);
    read(n, "require_signal_region", t.requireSignalRegion, k, w);
    read(n, "channel_mode", t.channelMode, k, w);
    read(n, "channels", t.channels, k, w);
    read(n, "max_events", t.maxEvents, k, w);
    read(n, "validation_modulus", t.validationModulus, k, w);
    read(n, "max_skipped_steps", t.maxSkippedSteps, k, w);
    rejectUnknown(n, k, w);
  }
  try {
    c.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(source + ": " + e.what());
  }
  return c;
}

DiffusionConfig DiffusionConfig::fromFile(const std::string& path) {
  const auto text = readWholeFile(path);
  if (!text) throw ConfigError("cannot open config file '" + path + "'");
  return fromYaml(*text, path);
}

std::string DiffusionConfig::toYaml() const {
  YAML::Emitter out;
  out.SetDoublePrecision(17);
  out << YAML::BeginMap;
  out << YAML::Key << "inputs" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "impact_parameters" << YAML::Value << inputs.impactParameters;
  out << YAML::Key << "activity" << YAML::Value << inputs.activity;
  out << YAML::Key << "fastmtt" << YAML::Value << inputs.fastMtt;
  // Written only when on, so that the configs of earlier models read back unchanged.
  if (inputs.visibleFrame) out << YAML::Key << "visible_frame" << YAML::Value << true;
  out << YAML::EndMap;
  out << YAML::Key << "encoder" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "width" << YAML::Value << encoder.width;
  out << YAML::Key << "heads" << YAML::Value << encoder.heads;
  out << YAML::Key << "layers" << YAML::Value << encoder.layers;
  out << YAML::Key << "knn" << YAML::Value << encoder.knn;
  out << YAML::Key << "mlp_ratio" << YAML::Value << encoder.mlpRatio;
  out << YAML::Key << "cond_dim" << YAML::Value << encoder.condDim;
  out << YAML::Key << "layer_scale_init" << YAML::Value << encoder.layerScaleInit;
  out << YAML::EndMap;
  out << YAML::Key << "head" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "width" << YAML::Value << head.width;
  out << YAML::Key << "blocks" << YAML::Value << head.blocks;
  out << YAML::Key << "mlp_ratio" << YAML::Value << head.mlpRatio;
  out << YAML::Key << "time_frequencies" << YAML::Value << head.timeFrequencies;
  out << YAML::Key << "channel_embedding" << YAML::Value << head.channelEmbedding;
  out << YAML::EndMap;
  out << YAML::Key << "schedule" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "lambda_min" << YAML::Value << schedule.lambdaMin;
  out << YAML::Key << "lambda_max" << YAML::Value << schedule.lambdaMax;
  out << YAML::EndMap;
  out << YAML::Key << "sampler" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << sampler.name;
  out << YAML::Key << "steps" << YAML::Value << sampler.steps;
  out << YAML::Key << "eta" << YAML::Value << sampler.eta;
  out << YAML::Key << "selection" << YAML::Value << sampler.selection;
  out << YAML::EndMap;
  const auto& t = train;
  out << YAML::Key << "train" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "epochs" << YAML::Value << t.epochs;
  out << YAML::Key << "batch_size" << YAML::Value << t.batchSize;
  out << YAML::Key << "lr_peak" << YAML::Value << t.lrPeak;
  out << YAML::Key << "lr_min" << YAML::Value << t.lrMin;
  out << YAML::Key << "warmup_steps" << YAML::Value << t.warmupSteps;
  out << YAML::Key << "weight_decay" << YAML::Value << t.weightDecay;
  out << YAML::Key << "beta1" << YAML::Value << t.beta1;
  out << YAML::Key << "beta2" << YAML::Value << t.beta2;
  out << YAML::Key << "ema_decay" << YAML::Value << t.emaDecay;
  out << YAML::Key << "grad_clip" << YAML::Value << t.gradClip;
  out << YAML::Key << "patience" << YAML::Value << t.patience;
  out << YAML::Key << "seed" << YAML::Value << t.seed;
  out << YAML::Key << "azimuth" << YAML::Value << t.azimuth;
  // Written only when not the default, so that the config text (and its hash in checkpoints) of
  // every model trained before the option existed is unchanged.
  if (t.targetFrame != "lab") out << YAML::Key << "target_frame" << YAML::Value << t.targetFrame;
  out << YAML::Key << "require_signal_region" << YAML::Value << t.requireSignalRegion;
  out << YAML::Key << "channel_mode" << YAML::Value << t.channelMode;
  out << YAML::Key << "channels" << YAML::Value << YAML::Flow << t.channels;
  out << YAML::Key << "max_events" << YAML::Value << t.maxEvents;
  out << YAML::Key << "validation_modulus" << YAML::Value << t.validationModulus;
  out << YAML::Key << "max_skipped_steps" << YAML::Value << t.maxSkippedSteps;
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace nurec::ml
