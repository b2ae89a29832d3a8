// `nurec reconstruct events.h5 --method NAME --out nu.h5`: neutrino reconstruction with one of
// the registered methods (app/method/, app/Process.hpp); the output holds everything of the
// input plus /nu/<method>/ (docs/reco.md). This file streams the input in chunks, shards it and
// writes the output; the method does the physics.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>

#include "app/Command.hpp"
#include "app/Process.hpp"
#include "nurec/Version.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/core/Progress.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/io/Shards.hpp"

namespace nurec::app {
namespace {

struct ReconstructOptions {
  std::string input, output, method;
  std::uint64_t seed = 1;
  std::size_t chunkEvents = io::kDefaultChunkEvents;
  std::string shard;  // "i/N": only the i-th of N equal row ranges (0-based)
  struct Registered {
    std::string process;
    MethodFamily::Factory factory;
  };
  std::map<std::string, Registered> families;  // by method name
};

int runReconstruct(const ReconstructOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  checkOutputPath("--out", o.output, OutputKind::File);  // --out = input updates it in place
  // Taken before the input is read: a second in-place writer waits and then reads our result.
  const OutputLock lock(o.output);
  const io::EventFileReader reader(o.input);
  const auto family = o.families.find(o.method);
  const std::string process = io::processOf(reader.attributes(), o.input);
  if (family->second.process != process)
    throw ConfigError(fmt::format("--method {} reconstructs {} events, but {} holds {} events",
                                  o.method, family->second.process, o.input, process));
  ReconstructRun run;
  run.method = o.method;
  run.seed = o.seed;
  run.threads = commonOptions().threads;
  // Made once: models and tables are loaded before the first event is read.
  const std::unique_ptr<ChunkReconstructor> reconstructor = family->second.factory(run);
  const io::ShardRange rows = io::shardRows(o.shard, reader.nEvents());
  // The file is streamed in chunks (docs/data-format.md); every per-event random stream is seeded
  // with the event's index in the input, so chunks and shards give the rows of a whole-file run.
  // Chunks are whole blocks of io::kRowBlock rows, like shards (io/Shards.hpp says why).
  const std::size_t chunk = (o.chunkEvents + io::kRowBlock - 1) / io::kRowBlock * io::kRowBlock;
  const bool oneChunk = rows.count <= chunk;
  Progress progress(fmt::format("reconstruct {} (events)", o.method), rows.count,
                    !oneChunk && !commonOptions().quiet);
  io::EventFileWriter writer(o.output, rows.count);
  std::map<int, std::int64_t> counts;
  // At least one chunk, so that an empty input still defines the output's datasets.
  std::size_t done = 0;
  do {
    const std::size_t take = std::min(chunk, rows.count - done);
    io::EventTable table = reader.read(rows.first + done, take);
    reconstructor->reconstruct(table, oneChunk && !commonOptions().quiet);
    table.setAttribute("producer", std::string(kProducer));
    for (const auto s : table.get<std::int8_t>(io::nuStatusName(o.method), {})) ++counts[s];
    writer.setAttributes(table.attributes());
    writer.append(table);
    progress.advance(take);
    done += take;
  } while (done < rows.count);
  progress.finish();
  if (!o.shard.empty()) {
    // Where this part belongs; `nurec merge` checks and removes these.
    writer.setAttribute(io::kShardAttribute, o.shard);
    writer.setAttribute(io::kShardFirstRowAttribute, static_cast<std::int64_t>(rows.first));
    writer.setAttribute(io::kShardSourceEventsAttribute,
                        static_cast<std::int64_t>(reader.nEvents()));
  }
  std::int64_t ok = 0;  // events with a result (status 0, and the method's other "ok" codes)
  for (const auto& [code, count] : counts)
    if (reconstructor->reconstructed(code)) ok += count;
  if (ok == 0)
    emptyResult(fmt::format("reconstruct {}: no event of {}{} was reconstructed", o.method, o.input,
                            o.shard.empty() ? "" : " (shard " + o.shard + ")"));
  writer.commit();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string parts;
  for (const auto& [code, count] : counts) {
    parts += fmt::format("{}{} {} ({})", parts.empty() ? "" : ", ", count,
                         reconstructor->statusName(code), code);
  }
  std::printf("reconstruct %s: %zu events%s, %lld ok, %lld failed [%s] in %.1f s -> %s\n",
              o.method.c_str(), rows.count,
              o.shard.empty() ? ""
                              : fmt::format(" (shard {}: rows {}-{} of {})", o.shard, rows.first,
                                            rows.first + rows.count, reader.nEvents())
                                    .c_str(),
              static_cast<long long>(ok),
              static_cast<long long>(static_cast<std::int64_t>(rows.count) - ok), parts.c_str(),
              seconds, o.output.c_str());
  return 0;
}

std::function<int()> setupReconstruct(CLI::App& cmd) {
  auto o = std::make_shared<ReconstructOptions>();
  auto& families = methodRegistry();
  std::sort(families.begin(), families.end(),
            [](const MethodFamily& a, const MethodFamily& b) { return a.order < b.order; });
  std::string help, byProcess;
  std::vector<std::string> names;
  for (const auto& p : processRegistry()) {
    std::string list;
    for (const auto& f : families)
      for (const auto& m : f.methods)
        if (f.process == p.name) list += (list.empty() ? "" : ", ") + m.name;
    if (!list.empty()) byProcess += fmt::format("  {:<15} {}\n", p.name, list);
  }
  for (const auto& f : families) {
    for (const auto& m : f.methods) {
      std::string text = m.help;
      for (std::size_t at = 0; (at = text.find('\n', at)) != std::string::npos; at += 12)
        text.replace(at, 1, "\n           ");
      help += fmt::format("  {:<9} {}\n", m.name, text);
      names.push_back(m.name);
    }
  }
  cmd.footer("Methods by process (the input's file attribute 'process'):\n" + byProcess +
             "\nMethods (docs/reco.md, docs/physics.md section 9, docs/ttbar.md):\n" + help +
             "Writes /nu/<method>/p4 (N,2,4) for tau pairs or /nu/<method>/partons (N,11,5) for\n"
             "t tbar, /nu/<method>/status (N; 0 ok, the codes above otherwise) and the method's\n"
             "own estimates; failed events have zero four-vectors.\n"
             "MET resolution: sigma = max(floor, k sqrt(sum E_T)) per component.");
  cmd.add_option("events", o->input, "Input event file with a /reco group (nurec simulate)")
      ->required();
  cmd.add_option("--method", o->method, "The reconstruction method (list below)")
      ->required()
      ->check(CLI::IsMember(names));
  cmd.add_option("--out", o->output, "Output event file (input + /nu/<method>)")->required();
  cmd.add_option("--seed", o->seed,
                 "Run seed of the per-event random streams (MMC scan, diffusion)")
      ->capture_default_str();
  addThreadsOption(cmd);
  addChunkOption(cmd, o->chunkEvents);
  cmd.add_option("--shard", o->shard,
                 "i/N: reconstruct only part i (0-based) of N equal row ranges and write them "
                 "alone; `nurec merge` joins the parts into the file of a single run");
  for (const auto& f : families) {
    const MethodFamily::Factory factory = f.setup(cmd);
    for (const auto& m : f.methods) o->families[m.name] = {f.process, factory};
  }
  return [o] { return runReconstruct(*o); };
}

const CommandRegistrar registrar({"reconstruct",
                                  "Reconstruct the neutrinos: collinear, MMC, FastMTT, IP, "
                                  "diffusion (tau pairs) or chi2 (t tbar)",
                                  40, setupReconstruct});

}  // namespace
}  // namespace nurec::app
