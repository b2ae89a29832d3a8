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
    // The structure only: no dataset is read, so a file of any size is shown at once.
    const io::EventFileReader file(*path);
    // The file's own version (files of every readable version are shown) and its process.
    const auto version = file.attributes().at("schema_version");
    std::printf("%s: nurec event file, schema %s v%lld, process %s, %zu events\n", path->c_str(),
                io::kSchemaName, static_cast<long long>(std::get<std::int64_t>(version)),
                io::processOf(file.attributes(), *path).c_str(), file.nEvents());
    for (const auto& [name, value] : file.attributes()) {
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
    for (const auto& [name, info] : file.datasets()) {
      std::string shape = fmt::format("({}", file.nEvents());
      for (auto d : info.rowShape) shape += fmt::format(",{}", d);
      shape += ")";
      std::printf("  %-28s %-3s %s\n", name.c_str(), io::dtypeName(info.dtype), shape.c_str());
    }
    return 0;
  };
}

const CommandRegistrar registrar({"info", "Show the attributes and datasets of a nurec event file",
                                  90, setupInfo});

}  // namespace
}  // namespace nurec::app
