// `nurec merge PART... --out FILE`: joins the parts of a sharded run (reconstruct --shard i/N)
// into the file a single run writes (docs/data-format.md "Shards and merging").
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "app/Command.hpp"
#include "nurec/core/OutputLock.hpp"
#include "nurec/core/OutputPath.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Shards.hpp"

namespace nurec::app {
namespace {

struct MergeOptions {
  std::vector<std::string> inputs;
  std::string output;
  std::size_t chunkEvents = io::kDefaultChunkEvents;
};

int runMerge(const MergeOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  checkOutputPath("--out", o.output, OutputKind::File, o.inputs);
  const OutputLock lock(o.output);
  const io::MergeSummary s = io::mergeEventFiles(o.inputs, o.output, o.chunkEvents);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("merge: %zu files, %zu events%s in %.1f s -> %s\n", o.inputs.size(), s.events,
              s.shardsChecked ? " (all shards of one run, in order)" : "", seconds,
              o.output.c_str());
  return 0;
}

std::function<int()> setupMerge(CLI::App& cmd) {
  auto o = std::make_shared<MergeOptions>();
  cmd.footer(
      "Joins event files row by row, streaming (memory bounded by --chunk-events).\n"
      "Shards (files written with --shard i/N) may be given in any order: they are sorted, and\n"
      "must be all N parts of one input, each once; the result equals the file of one run over\n"
      "the whole input. Other files must have the same datasets and attributes.\n\n"
      "Example (4 jobs, e.g. a Slurm array, then one merge):\n"
      "  for i in 0 1 2 3; do nurec reconstruct ev.h5 --method mmc --shard $i/4 --out p$i.h5 & "
      "done; wait\n"
      "  nurec merge p0.h5 p1.h5 p2.h5 p3.h5 --out nu.h5");
  cmd.add_option("inputs", o->inputs, "Event files to join (the shards of a run)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd.add_option("--out,-o", o->output, "Merged event file")->required();
  addChunkOption(cmd, o->chunkEvents);
  return [o] { return runMerge(*o); };
}

const CommandRegistrar registrar({"merge", "Join the parts of a sharded run into one event file",
                                  85, setupMerge});

}  // namespace
}  // namespace nurec::app
