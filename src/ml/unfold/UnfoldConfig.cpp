#include "nurec/ml/unfold/UnfoldConfig.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <cmath>
#include <set>
#include <sstream>
#include <variant>

#include "nurec/core/Error.hpp"
#include "nurec/core/TextFile.hpp"
#include "nurec/ml/Resources.hpp"

namespace nurec::ml::unfold {

namespace {

constexpr std::array<const char*, 7> kNames{"vld", "cvld", "ucvld", "ldm", "vdm", "cvae", "cinn"};

// One key of the run card and where its value lives: reading and writing walk the same list, so
// the two cannot drift apart.
using FieldPtr = std::variant<int*, double*, bool*, std::string*, std::uint64_t*, std::int64_t*>;
struct Field {
  const char* key;
  FieldPtr value;
};
struct Section {
  const char* name;
  std::vector<Field> fields;
};

std::vector<Section> sections(UnfoldConfig& c) {
  auto& e = c.encoder;
  auto& l = c.latent;
  auto& d = c.diffusion;
  auto& f = c.flow;
  auto& t = c.train;
  return {
      {"encoder",
       {{"width", &e.width},
        {"heads", &e.heads},
        {"layers", &e.layers},
        {"mlp_ratio", &e.mlpRatio}}},
      {"latent", {{"dim", &l.dim}, {"width", &l.width}, {"blocks", &l.blocks}}},
      {"diffusion",
       {{"width", &d.width},
        {"blocks", &d.blocks},
        {"time_frequencies", &d.timeFrequencies},
        {"learned_schedule", &d.learnedSchedule},
        {"gamma_min", &d.gammaMin},
        {"gamma_max", &d.gammaMax}}},
      {"flow", {{"blocks", &f.blocks}, {"width", &f.width}, {"clamp", &f.clamp}}},
      {"loss", {{"consistency", &c.loss.consistency}, {"kl_weight", &c.loss.klWeight}}},
      {"target", {{"w_daughters", &c.target.wDaughters}}},
      {"sampler",
       {{"name", &c.sampler.name}, {"steps", &c.sampler.steps}, {"decoder", &c.sampler.decoder}}},
      {"train",
       {{"epochs", &t.epochs},
        {"vae_epochs", &t.vaeEpochs},
        {"batch_size", &t.batchSize},
        {"lr", &t.lr},
        {"lr_min", &t.lrMin},
        {"warmup_steps", &t.warmupSteps},
        {"weight_decay", &t.weightDecay},
        {"grad_clip", &t.gradClip},
        {"ema_decay", &t.emaDecay},
        {"seed", &t.seed},
        {"max_events", &t.maxEvents},
        {"validation_modulus", &t.validationModulus},
        {"azimuth", &t.azimuth}}},
  };
}

std::string readRunCard(const std::string& path) {
  auto text = readWholeFile(path);
  if (!text) throw ConfigError("cannot open config file '" + path + "'");
  return std::move(*text);
}

void range(const char* key, double v, double lo, double hi) {
  if (!(v >= lo && v <= hi)) {
    std::ostringstream m;
    m << key << " must be in [" << lo << ", " << hi << "] (got " << v << ")";
    throw ConfigError(m.str());
  }
}

}  // namespace

ModelKind modelKindFromName(const std::string& name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (name == kNames[i]) return static_cast<ModelKind>(i);
  }
  throw ConfigError("model must be one of vld, cvld, ucvld, ldm, vdm, cvae, cinn (got '" + name +
                    "')");
}

std::string modelKindName(ModelKind kind) {
  return kNames.at(static_cast<std::size_t>(kind));
}

std::vector<std::string> modelKindNames() {
  return {kNames.begin(), kNames.end()};
}

bool usesDiffusion(ModelKind k) {
  return k == ModelKind::Vld || k == ModelKind::Cvld || k == ModelKind::Ucvld ||
         k == ModelKind::Ldm || k == ModelKind::Vdm;
}

bool usesVae(ModelKind k) {
  return k == ModelKind::Vld || k == ModelKind::Cvld || k == ModelKind::Ucvld ||
         k == ModelKind::Ldm || k == ModelKind::Cvae;
}

void UnfoldConfig::validate() const {
  range("encoder.width", encoder.width, 1, kMaxWidth);
  range("encoder.heads", encoder.heads, 1, kMaxDepth);
  require(encoder.width % encoder.heads == 0,
          "encoder.width must be a multiple of encoder.heads (got " +
              std::to_string(encoder.width) + " and " + std::to_string(encoder.heads) + ")");
  range("encoder.layers", encoder.layers, 0, kMaxDepth);
  range("encoder.mlp_ratio", encoder.mlpRatio, 1, 16);
  range("latent.dim", latent.dim, 1, 1024);
  range("latent.width", latent.width, 1, kMaxWidth);
  range("latent.blocks", latent.blocks, 0, kMaxDepth);
  range("diffusion.width", diffusion.width, 1, kMaxWidth);
  range("diffusion.blocks", diffusion.blocks, 1, kMaxDepth);
  range("diffusion.time_frequencies", diffusion.timeFrequencies, 1, 1024);
  range("diffusion.gamma_min", diffusion.gammaMin, -30, 30);
  range("diffusion.gamma_max", diffusion.gammaMax, -30, 30);
  require(diffusion.gammaMax > diffusion.gammaMin,
          "diffusion.gamma_max must exceed diffusion.gamma_min");
  range("flow.blocks", flow.blocks, 1, kMaxDepth);
  range("flow.width", flow.width, 1, kMaxWidth);
  range("flow.clamp", flow.clamp, 0.1, 10);
  range("loss.consistency", loss.consistency, 0, 1e6);
  range("loss.kl_weight", loss.klWeight, 0, 1e6);
  requireOneOf(target.wDaughters, TargetConfig::kWDaughterNames, "target.w_daughters");
  requireOneOf(sampler.name, SamplerConfig::kNames, "sampler.name");
  range("sampler.steps", sampler.steps, 1, kMaxSamplerSteps);
  requireOneOf(sampler.decoder, SamplerConfig::kDecoderNames, "sampler.decoder");
  const auto& t = train;
  range("train.epochs", t.epochs, 1, kMaxEpochs);
  range("train.batch_size", t.batchSize, 2, kMaxTrainBatch);
  require(std::isfinite(t.lr) && t.lr > 0 && t.lrMin >= 0 && t.lrMin <= t.lr,
          "need 0 <= train.lr_min <= train.lr, lr > 0 and finite");
  range("train.warmup_steps", t.warmupSteps, 1, 1e9);
  range("train.weight_decay", t.weightDecay, 0, 10);
  require(!std::isnan(t.gradClip), "train.grad_clip must be a number (<= 0 disables clipping)");
  range("train.ema_decay", t.emaDecay, 0, 0.999999);
  require(t.maxEvents >= 0, "train.max_events must be >= 0");
  range("train.validation_modulus", t.validationModulus, 2, 1e9);
  requireOneOf(t.azimuth, TrainConfig::kAzimuthNames, "train.azimuth");
  if (model == ModelKind::Ldm) {
    range("train.vae_epochs", t.vaeEpochs, 1, t.epochs - 1);
  } else {
    range("train.vae_epochs", t.vaeEpochs, 0, kMaxEpochs);
  }
}

UnfoldConfig UnfoldConfig::fromYaml(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ": not valid YAML (" + e.what() + ")");
  }
  if (!root.IsMap() || !root["model"]) {
    throw ConfigError(source +
                      ": an unfolding run card needs a top-level 'model:' (vld, cvld, ucvld, ldm, "
                      "vdm, cvae or cinn); start from configs/ttbar_vld.yaml");
  }
  UnfoldConfig c;
  std::set<std::string> knownTop{"model"};
  try {
    c.model = modelKindFromName(root["model"].as<std::string>());
  } catch (const YAML::Exception&) {
    throw ConfigError(source + ": 'model' must be a name");
  } catch (const ConfigError& e) {
    throw ConfigError(source + ": " + e.what());
  }
  for (auto& section : sections(c)) {
    knownTop.insert(section.name);
    const YAML::Node node = root[section.name];
    if (!node) continue;
    const std::string where = source + ": " + section.name;
    if (!node.IsMap()) throw ConfigError(where + ": expected a mapping");
    std::set<std::string> known;
    for (auto& field : section.fields) {
      known.insert(field.key);
      if (!node[field.key]) continue;
      try {
        std::visit([&](auto* p) { *p = node[field.key].as<std::remove_pointer_t<decltype(p)>>(); },
                   field.value);
      } catch (const YAML::Exception& e) {
        throw ConfigError(where + ": key '" + field.key + "' has the wrong type (" + e.what() +
                          ")");
      }
    }
    for (const auto& kv : node) {
      const auto key = kv.first.as<std::string>();
      if (!known.count(key)) throw ConfigError(where + ": unknown key '" + key + "'");
    }
  }
  for (const auto& kv : root) {
    const auto key = kv.first.as<std::string>();
    if (!knownTop.count(key)) throw ConfigError(source + ": unknown section '" + key + "'");
  }
  try {
    c.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(source + ": " + e.what());
  }
  return c;
}

UnfoldConfig UnfoldConfig::fromFile(const std::string& path) {
  return fromYaml(readRunCard(path), path);
}

std::string UnfoldConfig::toYaml() const {
  UnfoldConfig copy = *this;
  YAML::Emitter out;
  out.SetDoublePrecision(17);
  out << YAML::BeginMap << YAML::Key << "model" << YAML::Value << modelKindName(model);
  for (auto& section : sections(copy)) {
    out << YAML::Key << section.name << YAML::Value << YAML::BeginMap;
    for (auto& field : section.fields) {
      out << YAML::Key << field.key << YAML::Value;
      std::visit([&](auto* p) { out << *p; }, field.value);
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

bool isUnfoldRunCard(const std::string& text) {
  try {
    const YAML::Node root = YAML::Load(text);
    return root.IsMap() && root["model"];
  } catch (const YAML::Exception&) {
    return false;
  }
}

bool isUnfoldRunCardFile(const std::string& path) {
  return isUnfoldRunCard(readRunCard(path));
}

}  // namespace nurec::ml::unfold
