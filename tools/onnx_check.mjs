// Checks nurec's ONNX export in ONNX Runtime (docs/onnx.md "Verification"):
//   (a) encoder.onnx and denoiser.onnx on the inputs of reference.json against the LibTorch
//       outputs written by `nurec export-model --format onnx --reference EVENTS.h5`;
//   (b) the model's default sampler run here in JavaScript, one denoiser.onnx call per step, from
//       the per-event noise of `nurec reconstruct --method diffusion`, then decoder.onnx, against
//       the candidates that reconstruct wrote for the same events. The decoder's inputs depend on
//       model.json's target_frame: lab z, vis_p, rotation; visible z, vis (docs/onnx.md "Files").
// Usage: node tools/onnx_check.mjs DIR [--ort-dir D] [--model-tolerance 1e-5]
//                                      [--candidate-tolerance 1e-4]
// Exit 0 when both comparisons are within tolerance, 1 otherwise (or on any error).
import { readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

function usage(message) {
  console.error(`onnx_check: ${message}`);
  console.error("usage: node tools/onnx_check.mjs DIR [--ort-dir D] [--model-tolerance X] " +
                "[--candidate-tolerance X]");
  process.exit(1);
}

function parseArgs(argv) {
  const o = {
    dir: null,
    ortDir: path.join(here, "..", "third_party", "onnxruntime"),
    modelTol: 1e-5,
    candTol: 1e-4,
  };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--ort-dir") o.ortDir = value();
    else if (a === "--model-tolerance") o.modelTol = Number(value());
    else if (a === "--candidate-tolerance") o.candTol = Number(value());
    else if (a.startsWith("-")) usage(`unknown option '${a}'`);
    else if (o.dir === null) o.dir = a;
    else usage(`unexpected argument '${a}'`);
  }
  if (o.dir === null) usage("missing the export folder DIR");
  if (!(o.modelTol > 0) || !(o.candTol > 0)) usage("tolerances must be positive numbers");
  return o;
}

function loadOrt(ortDir) {
  // Installed by scripts/setup (npm ci in third_party/onnxruntime).
  const pkg = path.join(ortDir, "package.json");
  try {
    return createRequire(pkg)("onnxruntime-node");
  } catch (e) {
    console.error(`onnx_check: cannot load onnxruntime-node from ${ortDir}/node_modules ` +
                  `(${e.code || e.message}); install it with: npm ci --prefix ${ortDir}`);
    process.exit(1);
  }
}

function readJson(file) {
  if (!existsSync(file)) {
    console.error(`onnx_check: ${file}: no such file`);
    process.exit(1);
  }
  return JSON.parse(readFileSync(file, "utf8"));
}

function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; ++i) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const f32 = Math.fround;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ort = loadOrt(o.ortDir);
  const meta = readJson(path.join(o.dir, "model.json"));
  const ref = readJson(path.join(o.dir, "reference.json"));
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: "all" };
  const session = async (kind) =>
    ort.InferenceSession.create(path.join(o.dir, meta.files[kind].file), opts);
  const encoder = await session("encoder");
  const denoiser = await session("denoiser");
  const decoder = await session("decoder");
  const names = (kind, io) => meta.files[kind][io].map((v) => v.name);
  const [xName, maskName, chName] = names("encoder", "inputs");
  const [condOut] = names("encoder", "outputs");
  const [condIn, zIn, tIn] = names("denoiser", "inputs");
  const [vOut] = names("denoiser", "outputs");
  const decInputs = names("decoder", "inputs");
  const [nuOut] = names("decoder", "outputs");
  const frame = meta.target_frame ?? "lab";  // exports before the key had lab-frame targets
  const expected = { lab: "z,vis_p,rotation", visible: "z,vis" }[frame];
  if (expected === undefined) throw new Error(`model.json: unknown target_frame '${frame}'`);
  if (decInputs.join(",") !== expected) {
    throw new Error(`model.json: decoder inputs ${decInputs.join(", ")} do not match ` +
                    `target_frame ${frame} (expected ${expected.replaceAll(",", ", ")})`);
  }

  const B = ref.events, K = ref.candidates, F = ref.features, P = meta.inputs.slots;
  const W = meta.outputs.cond_width, D = 6;
  const T = (data, dims) => new ort.Tensor("float32", Float32Array.from(data), dims);

  // (a) one encoder and one denoiser evaluation each against LibTorch.
  const enc = await encoder.run({
    [xName]: T(ref.x, [B, P, F]),
    [maskName]: T(ref.mask, [B, P]),
    [chName]: T(ref.channel, [B]),
  });
  const cond = enc[condOut];
  const encDiff = maxAbsDiff(cond.data, ref.cond);
  let denDiff = 0;
  for (const d of ref.denoiser) {
    const out = await denoiser.run({
      [condIn]: T(ref.cond, [B, W]),
      [zIn]: T(d.z, [B, K, D]),
      [tIn]: T([d.t], [1]),
    });
    denDiff = Math.max(denDiff, maxAbsDiff(out[vOut].data, d.v));
  }
  console.log(`onnx_check: encoder  max |onnx - libtorch| = ${encDiff.toExponential(2)} ` +
              `(${B} events, cond width ${W})`);
  console.log(`onnx_check: denoiser max |onnx - libtorch| = ${denDiff.toExponential(2)} ` +
              `(${ref.denoiser.length} times, K = ${K})`);

  // (b) the default sampler (model.json "sampler"), as ml/Sampler.cpp: float32 state, one
  // rounding per update like LibTorch's in-place ops.
  const s = meta.sampler, g = s.grid, n = g.t.length, block = K * D;
  const draws = ref.noise_draws;
  if (draws !== (s.noise_per_step ? n + 1 : 1)) {
    throw new Error(`reference.json has ${draws} noise draws per event, the sampler needs ` +
                    `${s.noise_per_step ? n + 1 : 1}`);
  }
  const noise = (draw) => {  // (B, K, 6) block `draw` of every event's stream
    const out = new Float32Array(B * block);
    for (let b = 0; b < B; ++b) {
      const base = (b * draws + draw) * block;
      for (let j = 0; j < block; ++j) out[b * block + j] = ref.noise[base + j];
    }
    return out;
  };
  const z = noise(0);
  const ddim = s.name === "ddim";
  let xhatPrev = new Float32Array(z.length);
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; ++i) {
    const out = await denoiser.run({
      [condIn]: cond,
      [zIn]: new ort.Tensor("float32", z, [B, K, D]),
      [tIn]: T([g.t[i]], [1]),
    });
    const v = out[vOut].data;
    if (ddim) {
      const zc = f32(g.z_coef[i]), vc = f32(g.v_coef[i]), nc = f32(g.noise_coef[i]);
      for (let j = 0; j < z.length; ++j) z[j] = f32(f32(z[j] * zc) + vc * v[j]);
      if (s.noise_per_step) {
        const xi = noise(i + 1);
        for (let j = 0; j < z.length; ++j) z[j] = f32(z[j] + nc * xi[j]);
      }
    } else {
      const al = f32(g.alpha[i]), si = f32(g.sigma[i]), w = f32(g.w[i]), wp = f32(g.w_prev[i]);
      const zc = f32(g.z_coef[i]), dc = f32(g.d_coef[i]);
      const xhat = new Float32Array(z.length);
      for (let j = 0; j < z.length; ++j) {
        xhat[j] = f32(f32(z[j] * al) - si * v[j]);
        let d = f32(xhat[j] * w);
        if (g.w_prev[i] !== 0) d = f32(d + wp * xhatPrev[j]);
        z[j] = f32(f32(z[j] * zc) + dc * d);
      }
      xhatPrev = xhat;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) * 1e-9;
  const decFeeds = { z: new ort.Tensor("float32", z, [B, K, D]) };
  if (frame === "visible") {
    if (!ref.vis) throw new Error("reference.json has no `vis` (export it again with this nurec)");
    decFeeds.vis = T(ref.vis, [B, 2, 3]);
  } else {
    decFeeds.vis_p = T(ref.vis_p, [B, 2]);
    decFeeds.rotation = T(ref.rotation, [B]);
  }
  const dec = await decoder.run(decFeeds);
  const nu = dec[nuOut].data;
  let candAbs = 0, candRel = 0;
  for (let j = 0; j < nu.length; ++j) {
    const d = Math.abs(nu[j] - ref.nu_candidates[j]);
    candAbs = Math.max(candAbs, d);
    // Relative to the component, with 1 GeV as the floor for components near zero.
    candRel = Math.max(candRel, d / Math.max(Math.abs(ref.nu_candidates[j]), 1.0));
  }
  console.log(`onnx_check: sampler ${s.name}, ${n} steps, eta ${s.eta}, ${B} events x K = ${K}: ` +
              `candidates max |onnx - nurec| = ${candAbs.toExponential(2)} GeV, ` +
              `relative ${candRel.toExponential(2)} (${frame} target frame, ` +
              `${seconds.toFixed(2)} s)`);
  const fails = [];
  if (!(encDiff <= o.modelTol)) fails.push(`encoder difference > ${o.modelTol}`);
  if (!(denDiff <= o.modelTol)) fails.push(`denoiser difference > ${o.modelTol}`);
  if (!(candRel <= o.candTol)) fails.push(`candidate relative difference > ${o.candTol}`);
  if (fails.length) {
    console.error(`onnx_check: FAIL: ${fails.join("; ")}`);
    process.exit(1);
  }
  console.log("onnx_check: ok");
}

main().catch((e) => {
  console.error(`onnx_check: ${e.message}`);
  process.exit(1);
});
