#pragma once
// Sharded processing of event files (docs/data-format.md "Shards and merging"): a command run
// with --shard i/N processes only the i-th of N contiguous, near-equal row ranges of its input and
// writes them as a file of their own, tagged with where they belong; mergeEventFiles joins such
// parts (or any event files with the same datasets) into one file. Per-event random streams are
// seeded with the row's index in the input, so the merged parts equal a single run's output.
#include <cstddef>
#include <string>
#include <vector>

namespace nurec::io {

// File attributes of a part; removed by the merge.
inline constexpr const char* kShardAttribute = "shard";                    // "i/N"
inline constexpr const char* kShardFirstRowAttribute = "shard_first_row";  // row in the input
inline constexpr const char* kShardSourceEventsAttribute = "shard_source_events";  // input rows

// Shards and the chunks of `reconstruct` start at multiples of this many rows: the diffusion model
// batches events by such blocks of file rows (ml::DiffusionReconstructOptions::batchEvents), so
// the split of a file never changes a batch and the outputs stay bit-identical.
inline constexpr std::size_t kRowBlock = 512;

struct ShardRange {
  std::size_t first = 0, count = 0;
  std::size_t index = 0, shards = 1;
};

// Rows of shard "i/N" of a file with nEvents rows, in blocks of kRowBlock rows: with b blocks
// (the last may be short), shard i holds blocks [floor(i b / N), floor((i+1) b / N)), so shards
// differ by at most one block and some are empty when N > b. An empty text means the whole file.
// ConfigError for text that is not i/N with 0 <= i < N <= 100000.
ShardRange shardRows(const std::string& text, std::size_t nEvents);

struct MergeSummary {
  std::size_t events = 0;
  bool shardsChecked = false;  // the parts were shards of one input, complete and in order
};

// Writes the rows of `parts`, in order, to `output` (atomically, streamed in chunks of
// chunkEvents rows). Every part must hold the same datasets (names, element types, row shapes):
// InputError naming the part and the dataset otherwise. When the parts carry shard attributes
// they must be all N shards of one input, each once (any order is accepted and sorted); they are
// checked for gaps and overlaps and the shard attributes are dropped. The other attributes are
// the first part's; an attribute whose value differs between parts is an InputError.
MergeSummary mergeEventFiles(const std::vector<std::string>& parts, const std::string& output,
                             std::size_t chunkEvents);

}  // namespace nurec::io
