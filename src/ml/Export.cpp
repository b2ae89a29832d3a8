#include "nurec/ml/Export.hpp"

#include <filesystem>
#include <sstream>

#include "nurec/core/AtomicFile.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/ml/TrainApi.hpp"

namespace nurec::ml {

namespace {

// Op-for-op transcription of DiffusionNetImpl (ml/Net.cpp); keep both in step.
const char* kSource = R"TS(
def encode(self, x, mask, channel):
    B = x.size(0)
    P = x.size(1)
    F = x.size(2)
    D = self.width
    H = self.heads
    dh = D // H
    inf = float('inf')
    pi = 3.14159265358979323846
    m3 = mask.unsqueeze(-1)
    mf = m3.to(x.dtype)
    xn = torch.where(m3, (x - self.x_mean) / self.x_std, torch.zeros_like(x))
    h0 = torch.gelu(torch.linear(torch.gelu(torch.linear(xn, self.emb_w1, self.emb_b1)), self.emb_w2, self.emb_b2)) * mf
    zero = torch.zeros([], dtype=x.dtype)
    eta = torch.where(mask, x.select(2, 1), zero)
    phi = torch.where(mask, x.select(2, 2), zero)
    deta = eta.unsqueeze(2) - eta.unsqueeze(1)
    dphi = torch.remainder(phi.unsqueeze(2) - phi.unsqueeze(1) + pi, 2.0 * pi) - pi
    is_met = mask.logical_and(x.select(2, 10) > 0.5)
    bad_key = mask.logical_not().logical_or(is_met)
    d = (deta * deta + dphi * dphi).masked_fill(bad_key.unsqueeze(1), inf)
    d = d.masked_fill(torch.eye(P, dtype=mask.dtype).unsqueeze(0), inf)
    kk = min(self.knn, P - 1)
    topk = torch.topk(d, kk, -1, False, True)
    dk = topk[0]
    idx = topk[1]
    valid = torch.isfinite(dk).logical_and(mask.unsqueeze(2))
    offsets = (torch.arange(B, dtype=idx.dtype) * P).view([B, 1, 1])
    xj = xn.reshape([B * P, F]).index_select(0, (idx + offsets).reshape([-1])).view([B, P, kk, F])
    xi = xn.unsqueeze(2).expand([B, P, kk, F])
    e = torch.gelu(torch.linear(torch.gelu(torch.linear(torch.cat([xi, xj - xi], -1), self.edge_w1, self.edge_b1)), self.edge_w2, self.edge_b2))
    vf = valid.to(x.dtype).unsqueeze(-1)
    local = (e * vf).sum(2) / vf.sum(2).clamp_min(1.0)
    h = (h0 + local) * mf
    skip = h
    key_mask = mask.logical_not().view([B, 1, 1, P])
    for l in range(self.layers):
        u = torch.layer_norm(h, [D], self.ln1_w[l], self.ln1_b[l], 1e-5)
        qkv = torch.linear(u, self.qkv_w[l], self.qkv_b[l]).view([B, P, 3, H, dh]).permute([2, 0, 3, 1, 4])
        q = qkv[0]
        k = qkv[1]
        v = qkv[2]
        s = torch.matmul(q, k.transpose(-2, -1)) * self.attn_scale
        s = s.masked_fill(key_mask, -inf)
        a = torch.matmul(torch.softmax(s, -1), v).transpose(1, 2).reshape([B, P, D])
        h = h + self.gamma1[l] * torch.linear(a, self.o_w[l], self.o_b[l])
        u2 = torch.layer_norm(h, [D], self.ln2_w[l], self.ln2_b[l], 1e-5)
        h = h + self.gamma2[l] * torch.linear(torch.gelu(torch.linear(u2, self.mlp_w1[l], self.mlp_b1[l])), self.mlp_w2[l], self.mlp_b2[l])
        h = h * mf
    h = torch.layer_norm(h + skip, [D], self.lnf_w, self.lnf_b, 1e-5) * mf
    mean = h.sum(1) / mf.sum(1)
    mx = h.masked_fill(m3.logical_not(), -inf).amax(1)
    c = torch.linear(torch.cat([mean, mx], -1), self.pool_w, self.pool_b)
    ech = self.ch_emb.index_select(0, channel)
    return torch.linear(torch.cat([c, ech], -1), self.c_w, self.c_b)

def time_embedding(self, t):
    ang = t.unsqueeze(1) * self.freqs.to(t.dtype).unsqueeze(0)
    f = torch.cat([torch.sin(ang), torch.cos(ang)], 1)
    return torch.linear(torch.gelu(torch.linear(f, self.t_w1, self.t_b1)), self.t_w2, self.t_b2)

def velocity(self, cond_base, temb, z):
    W = self.head_width
    cond = torch.gelu(cond_base + temb)
    h = torch.linear(z, self.z_w, self.z_b)
    for i in range(self.blocks):
        film = torch.linear(cond, self.film_w[i], self.film_b[i]).unsqueeze(1)
        sc = film.narrow(2, 0, W)
        sh = film.narrow(2, W, W)
        u = torch.layer_norm(h, [W], None, None, 1e-5) * (sc + 1.0) + sh
        h = h + torch.linear(torch.gelu(torch.linear(u, self.blk_w1[i], self.blk_b1[i])), self.blk_w2[i], self.blk_b2[i])
    return torch.linear(h, self.out_w, self.out_b)

def forward(self, x, mask, channel, z, t):
    return self.velocity(self.encode(x, mask, channel), self.time_embedding(t), z)
)TS";

}  // namespace

torch::jit::Module buildTorchScript(DiffusionNet& net, const DiffusionConfig& config) {
  torch::jit::Module m("NurecDiffusion");
  torch::NoGradGuard ng;
  for (const auto& it : net->named_parameters(true)) {
    m.register_parameter(it.key(), it.value().detach().clone(), false);
  }
  for (const auto& it : net->named_buffers(true)) m.register_buffer(it.key(), it.value().clone());
  auto intAttr = [&](const char* name, std::int64_t v) {
    m.register_attribute(name, c10::IntType::get(), c10::IValue(v));
  };
  auto floatAttr = [&](const char* name, double v) {
    m.register_attribute(name, c10::FloatType::get(), c10::IValue(v));
  };
  intAttr("width", config.encoder.width);
  intAttr("heads", config.encoder.heads);
  intAttr("layers", config.encoder.layers);
  intAttr("knn", config.encoder.knn);
  intAttr("head_width", config.head.width);
  intAttr("blocks", config.head.blocks);
  floatAttr("attn_scale",
            1.0 / std::sqrt(static_cast<double>(config.encoder.width / config.encoder.heads)));
  floatAttr("lambda_min", config.schedule.lambdaMin);
  floatAttr("lambda_max", config.schedule.lambdaMax);
  m.register_attribute("azimuth", c10::StringType::get(), c10::IValue(config.train.azimuth));
  m.register_attribute("target_frame", c10::StringType::get(),
                       c10::IValue(config.train.targetFrame));
  m.register_attribute("config_yaml", c10::StringType::get(), c10::IValue(config.toYaml()));
  // The same source as a string: Python can run it eagerly (benchmarks/ml/python_peer.py).
  m.register_attribute("eager_source", c10::StringType::get(), c10::IValue(std::string(kSource)));
  m.define(kSource);
  return m;
}

void exportTorchScript(const std::string& modelDir, const std::string& outFile) {
  if (outFile.empty() || std::filesystem::is_directory(outFile)) {
    throw ConfigError("export-model: --out '" + outFile +
                      "' must name a file (e.g. <dir>/model_ts.pt), not a directory");
  }
  try {
    LoadedModel lm = loadModelDir(modelDir);
    torch::jit::Module m = buildTorchScript(lm.net, lm.config);
    // Through memory and the atomic writer: parent folders are created, and a full disk gives a
    // nurec::Error naming the file with no temporary left behind (docs/reliability.md).
    std::ostringstream bytes;
    m.save(bytes);
    writeTextFileAtomically(outFile, bytes.str());
  } catch (const c10::Error& e) {
    throw Error("cannot export '" + modelDir + "' to TorchScript file '" + outFile + "' (" +
                firstLineOf(e.what_without_backtrace()) + ")");
  }
}

}  // namespace nurec::ml
