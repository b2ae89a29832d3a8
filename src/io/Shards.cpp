#include "nurec/io/Shards.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "nurec/core/Error.hpp"
#include "nurec/io/EventFile.hpp"

namespace nurec::io {

ShardRange shardRows(const std::string& text, std::size_t nEvents) {
  ShardRange r;
  r.count = nEvents;
  if (text.empty()) return r;
  const auto slash = text.find('/');
  std::size_t index = 0, shards = 0;
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    std::size_t usedI = 0, usedN = 0;
    const std::string iText = text.substr(0, slash), nText = text.substr(slash + 1);
    if (iText.empty() || nText.empty() || iText[0] == '-' || nText[0] == '-')
      throw std::invalid_argument("sign");
    index = std::stoul(iText, &usedI);
    shards = std::stoul(nText, &usedN);
    if (usedI != iText.size() || usedN != nText.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("--shard '{}': expected i/N, e.g. 0/4 for the first of 4", text));
  }
  if (shards < 1 || shards > 100000 || index >= shards) {
    throw ConfigError(
        fmt::format("--shard '{}': need 0 <= i < N <= 100000 (shards are numbered from 0)", text));
  }
  // floor(i b / N) blocks, without overflow: i b / N = q i + (rest i) / N with b = q N + rest.
  const std::size_t blocks = (nEvents + kRowBlock - 1) / kRowBlock;
  auto boundary = [&](std::size_t i) {
    const std::size_t q = blocks / shards, rest = blocks % shards;
    return std::min(nEvents, (q * i + (rest * i) / shards) * kRowBlock);
  };
  r.index = index;
  r.shards = shards;
  r.first = boundary(index);
  r.count = boundary(index + 1) - r.first;
  return r;
}

namespace {

bool isShardAttribute(const std::string& name) {
  return name == kShardAttribute || name == kShardFirstRowAttribute ||
         name == kShardSourceEventsAttribute;
}

std::string describeAttribute(const AttributeValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>)
          return "\"" + (x.size() > 60 ? x.substr(0, 60) + "..." : x) + "\"";
        else
          return fmt::format("{}", x);
      },
      v);
}

// Orders shard parts by their index and checks that they tile their input exactly.
void sortAndCheckShards(std::vector<std::unique_ptr<EventFileReader>>& parts) {
  struct Tag {
    ShardRange range;
    std::size_t source = 0;
  };
  auto tagOf = [](const EventFileReader& r) {
    const auto& a = r.attributes();
    auto get = [&](const char* name) -> const AttributeValue* {
      auto it = a.find(name);
      return it == a.end() ? nullptr : &it->second;
    };
    const auto* shard = get(kShardAttribute);
    const auto* firstRow = get(kShardFirstRowAttribute);
    const auto* source = get(kShardSourceEventsAttribute);
    if (!shard || !firstRow || !source || !std::holds_alternative<std::string>(*shard) ||
        !std::holds_alternative<std::int64_t>(*firstRow) ||
        !std::holds_alternative<std::int64_t>(*source) || std::get<std::int64_t>(*source) < 0) {
      throw InputError(fmt::format(
          "{}: not a shard (attributes {}, {} and {} missing or of the wrong type), but other "
          "inputs are: merge either shards of one run or plain event files",
          r.path(), kShardAttribute, kShardFirstRowAttribute, kShardSourceEventsAttribute));
    }
    Tag t;
    t.source = static_cast<std::size_t>(std::get<std::int64_t>(*source));
    t.range = shardRows(std::get<std::string>(*shard), t.source);
    if (t.range.first != static_cast<std::size_t>(std::get<std::int64_t>(*firstRow)) ||
        t.range.count != r.nEvents()) {
      throw InputError(fmt::format(
          "{}: shard {} should hold rows {}-{} of {}, it holds {} rows from {}", r.path(),
          std::get<std::string>(*shard), t.range.first, t.range.first + t.range.count, t.source,
          r.nEvents(), std::get<std::int64_t>(*firstRow)));
    }
    return t;
  };
  std::stable_sort(parts.begin(), parts.end(), [&](const auto& a, const auto& b) {
    return tagOf(*a).range.index < tagOf(*b).range.index;
  });
  const Tag first = tagOf(*parts.front());
  if (parts.size() != first.range.shards) {
    throw InputError(
        fmt::format("{} shard files given, but the shards are numbered i/{}: "
                    "every shard is needed, each once",
                    parts.size(), first.range.shards));
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const Tag t = tagOf(*parts[i]);
    if (t.range.shards != first.range.shards || t.source != first.source || t.range.index != i) {
      throw InputError(fmt::format(
          "{}: shard {}/{} of a {}-event input does not fit: expected shard {}/{} of {} events "
          "(a shard is missing, given twice, or from another run)",
          parts[i]->path(), t.range.index, t.range.shards, t.source, i, first.range.shards,
          first.source));
    }
  }
}

}  // namespace

MergeSummary mergeEventFiles(const std::vector<std::string>& partPaths, const std::string& output,
                             std::size_t chunkEvents) {
  if (partPaths.empty()) throw ConfigError("merge: no input files");
  if (chunkEvents == 0) throw ConfigError("merge: chunk size must be at least 1 event");
  std::vector<std::unique_ptr<EventFileReader>> parts;
  for (const auto& p : partPaths) parts.push_back(std::make_unique<EventFileReader>(p));
  MergeSummary summary;
  const std::size_t tagged =
      static_cast<std::size_t>(std::count_if(parts.begin(), parts.end(), [](const auto& r) {
        return r->attributes().count(kShardAttribute) > 0;
      }));
  if (tagged > 0) {
    sortAndCheckShards(parts);
    summary.shardsChecked = true;
  }
  const EventFileReader& head = *parts.front();
  for (const auto& part : parts) {
    for (const auto& [name, info] : head.datasets()) {
      auto it = part->datasets().find(name);
      if (it == part->datasets().end())
        throw InputError(fmt::format("{}: dataset {} is missing (it is in {})", part->path(), name,
                                     head.path()));
      if (it->second.dtype != info.dtype || it->second.rowShape != info.rowShape)
        throw InputError(fmt::format("{}: dataset {} has another type or row shape than in {}",
                                     part->path(), name, head.path()));
    }
    for (const auto& entry : part->datasets()) {
      if (!head.has(entry.first))
        throw InputError(
            fmt::format("{}: dataset {} is not in {}", part->path(), entry.first, head.path()));
    }
    for (const auto& [name, value] : part->attributes()) {
      if (isShardAttribute(name) || name == "n_events") continue;
      auto it = head.attributes().find(name);
      if (it == head.attributes().end() || it->second != value) {
        throw InputError(fmt::format(
            "{}: attribute {} = {} differs from {} in {}: the parts are not of one run",
            part->path(), name, describeAttribute(value),
            it == head.attributes().end() ? "its absence" : describeAttribute(it->second),
            head.path()));
      }
    }
  }
  std::size_t total = 0;
  for (const auto& part : parts) total += part->nEvents();
  EventFileWriter writer(output, total);
  for (const auto& [name, value] : head.attributes())
    if (!isShardAttribute(name)) writer.setAttribute(name, value);
  for (const auto& part : parts) {
    for (std::size_t first = 0; first < part->nEvents(); first += chunkEvents)
      writer.append(part->read(first, chunkEvents));
  }
  if (total == 0) writer.append(head.read(0, 0));  // keep the datasets of empty parts
  writer.commit();
  summary.events = total;
  return summary;
}

}  // namespace nurec::io
