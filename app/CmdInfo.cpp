// `nurec info FILE`: what an event file holds (attributes, datasets, shapes, channel counts).
#include <fmt/format.h>

#include <cstdio>
#include <variant>

#include "app/Command.hpp"
#include "nurec/io/EventFile.hpp"

namespace nurec::app {
namespace {

std::function<int()> setupInfo(CLI::App& cmd) {
  auto path = std::make_shared<std::string>();
  cmd.add_option("file", *path, "nurec HDF5 event file")->required();
  return [path] {
    const io::EventTable table = io::readEventFile(*path);
    std::printf("%s: nurec event file, schema %s v%lld, %zu events\n", path->c_str(),
                io::kSchemaName, static_cast<long long>(io::kSchemaVersion), table.nEvents());
    for (const auto& [name, value] : table.attributes()) {
      std::string text = std::visit(
          [](const auto& v) -> std::string {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>)
              return v;
            else
              return fmt::format("{}", v);
          },
          value);
      if (text.size() > 60 || text.find('\n') != std::string::npos) {
        text = fmt::format("<text, {} chars>", text.size());
      }
      std::printf("  @%-18s %s\n", name.c_str(), text.c_str());
    }
    for (const auto& [name, col] : table.columns()) {
      std::string shape = fmt::format("({}", table.nEvents());
      for (auto d : col.rowShape) shape += fmt::format(",{}", d);
      shape += ")";
      std::printf("  %-28s %-3s %s\n", name.c_str(), io::dtypeName(col.dtype()), shape.c_str());
    }
    return 0;
  };
}

const CommandRegistrar registrar({"info", "Show the attributes and datasets of a nurec event file",
                                  90, setupInfo});

}  // namespace
}  // namespace nurec::app
