#include "nurec/io/EventTable.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <cmath>

#include "nurec/core/Error.hpp"

namespace nurec::io {

const char* dtypeName(DType t) {
  switch (t) {
    case DType::F64:
      return "f8";
    case DType::F32:
      return "f4";
    case DType::I8:
      return "i1";
    case DType::U8:
      return "u1";
    case DType::I32:
      return "i4";
    case DType::I64:
      return "i8";
  }
  return "?";
}

DType Column::dtype() const {
  return static_cast<DType>(values.index());
}

std::size_t Column::rowSize() const {
  std::size_t n = 1;
  for (auto d : rowShape) n *= d;
  return n;
}

std::size_t Column::size() const {
  return std::visit([](const auto& v) { return v.size(); }, values);
}

namespace {
std::string where(const std::string& source) {
  return source.empty() ? "event table" : source;
}

std::string shapeText(std::size_t n, const std::vector<std::size_t>& rowShape) {
  std::string s = fmt::format("({}", n);
  for (auto d : rowShape) s += d == 0 ? ",*" : fmt::format(",{}", d);
  return s + ")";
}
}  // namespace

void EventTable::eraseGroup(const std::string& prefix) {
  for (auto it = columns_.begin(); it != columns_.end();) {
    if (it->first.rfind(prefix, 0) == 0)
      it = columns_.erase(it);
    else
      ++it;
  }
}

template <class T>
void EventTable::set(const std::string& name, std::vector<std::size_t> rowShape,
                     std::vector<T> values) {
  std::size_t rowSize = 1;
  for (auto d : rowShape) rowSize *= d;
  if (values.size() != nEvents_ * rowSize) {
    throw Error(fmt::format("internal: column {} has {} values, expected {} x {}", name,
                            values.size(), nEvents_, rowSize));
  }
  columns_[name] = Column{std::move(rowShape), ColumnValues{std::move(values)}};
}

const Column& EventTable::column(const std::string& name) const {
  auto it = columns_.find(name);
  if (it == columns_.end()) {
    throw InputError(fmt::format("{}: dataset {} is missing", where(source_), name));
  }
  return it->second;
}

template <class T>
std::vector<T> EventTable::get(const std::string& name,
                               const std::vector<std::size_t>& expectedRowShape,
                               bool requireFinite) const {
  const Column& col = column(name);
  bool shapeOk = col.rowShape.size() == expectedRowShape.size();
  for (std::size_t i = 0; shapeOk && i < expectedRowShape.size(); ++i) {
    shapeOk = expectedRowShape[i] == 0 || expectedRowShape[i] == col.rowShape[i];
  }
  if (!shapeOk) {
    throw InputError(fmt::format("{}: dataset {} has shape {}, expected {}", where(source_), name,
                                 shapeText(nEvents_, col.rowShape),
                                 shapeText(nEvents_, expectedRowShape)));
  }
  std::vector<T> out;
  std::visit(
      [&](const auto& v) {
        out.reserve(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) {
          const auto x = v[i];
          if constexpr (std::is_floating_point_v<std::decay_t<decltype(x)>>) {
            if (requireFinite && !std::isfinite(x)) {
              const std::size_t row = col.rowSize() ? i / col.rowSize() : 0;
              throw InputError(fmt::format("{}: dataset {} has a non-finite value ({}) in event {}",
                                           where(source_), name, x, row));
            }
          }
          out.push_back(static_cast<T>(x));
        }
      },
      col.values);
  return out;
}

std::string EventTable::stringAttribute(const std::string& name) const {
  auto it = attributes_.find(name);
  if (it == attributes_.end()) {
    throw InputError(fmt::format("{}: attribute '{}' is missing", where(source_), name));
  }
  if (auto* s = std::get_if<std::string>(&it->second)) return *s;
  throw InputError(fmt::format("{}: attribute '{}' is not a string", where(source_), name));
}

std::string EventTable::stringAttributeOr(const std::string& name) const {
  const auto it = attributes_.find(name);
  if (it == attributes_.end()) return {};
  const auto* s = std::get_if<std::string>(&it->second);
  return s ? *s : std::string();
}

double EventTable::numberAttribute(const std::string& name) const {
  auto it = attributes_.find(name);
  if (it == attributes_.end()) {
    throw InputError(fmt::format("{}: attribute '{}' is missing", where(source_), name));
  }
  if (auto* d = std::get_if<double>(&it->second)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&it->second)) return static_cast<double>(*i);
  throw InputError(fmt::format("{}: attribute '{}' is not a number", where(source_), name));
}

EventTable EventTable::selectRows(const std::vector<std::size_t>& rows) const {
  EventTable out(rows.size());
  out.source_ = source_;
  out.attributes_ = attributes_;
  // Named references, not structured bindings: clang before 16 cannot capture those in the lambda.
  for (const auto& entry : columns_) {
    const std::string& name = entry.first;
    const Column& col = entry.second;
    const std::size_t rs = col.rowSize();
    std::visit(
        [&](const auto& v) {
          std::decay_t<decltype(v)> sel;
          sel.reserve(rows.size() * rs);
          for (auto r : rows) {
            if (r >= nEvents_) throw Error(fmt::format("internal: row {} out of range", r));
            sel.insert(sel.end(), v.begin() + static_cast<std::ptrdiff_t>(r * rs),
                       v.begin() + static_cast<std::ptrdiff_t>((r + 1) * rs));
          }
          out.columns_[name] = Column{col.rowShape, ColumnValues{std::move(sel)}};
        },
        col.values);
  }
  out.attributes_["n_events"] = static_cast<std::int64_t>(rows.size());
  return out;
}

#define NUREC_INSTANTIATE(T)                                                                      \
  template void EventTable::set<T>(const std::string&, std::vector<std::size_t>, std::vector<T>); \
  template std::vector<T> EventTable::get<T>(const std::string&, const std::vector<std::size_t>&, \
                                             bool) const;
NUREC_INSTANTIATE(double)
NUREC_INSTANTIATE(float)
NUREC_INSTANTIATE(std::int8_t)
NUREC_INSTANTIATE(std::uint8_t)
NUREC_INSTANTIATE(std::int32_t)
NUREC_INSTANTIATE(std::int64_t)
#undef NUREC_INSTANTIATE

}  // namespace nurec::io
