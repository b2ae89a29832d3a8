#include "nurec/python/Convert.hpp"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <optional>

#include "nurec/core/Error.hpp"
#include "nurec/io/Schema.hpp"

namespace nurec::python {

namespace {

using io::DType;

const char* numpyTypeName(DType t) {
  switch (t) {
    case DType::F64:
      return "float64";
    case DType::F32:
      return "float32";
    case DType::I8:
      return "int8";
    case DType::U8:
      return "uint8";
    case DType::I32:
      return "int32";
    case DType::I64:
      return "int64";
  }
  return "?";
}

// Copies a C-contiguous array of element type T into the table; false if the type differs.
template <class T>
bool putIf(io::EventTable& table, const std::string& name, const py::array& a) {
  if (!py::isinstance<py::array_t<T>>(a)) return false;
  const auto c = py::array_t<T, py::array::c_style>::ensure(a);
  std::vector<std::size_t> rowShape;
  for (py::ssize_t d = 1; d < c.ndim(); ++d)
    rowShape.push_back(static_cast<std::size_t>(c.shape(d)));
  table.set<T>(name, std::move(rowShape), std::vector<T>(c.data(), c.data() + c.size()));
  return true;
}

io::AttributeValue attributeFromPython(const std::string& name, const py::handle& v) {
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  if (py::isinstance<py::bool_>(v) || py::isinstance(v, py::module_::import("numpy").attr("bool_")))
    throw InputError(
        fmt::format("attribute '{}': a bool; the event file stores str, int or float "
                    "attributes (use 0/1)",
                    name));
  if (py::isinstance<py::float_>(v) ||
      py::isinstance(v, py::module_::import("numpy").attr("floating")))
    return v.cast<double>();
  if (PyIndex_Check(v.ptr()))
    return py::int_(py::reinterpret_borrow<py::object>(v)).cast<std::int64_t>();
  throw InputError(fmt::format("attribute '{}': expected str, int or float, got {}", name,
                               py::str(py::type::of(v).attr("__name__")).cast<std::string>()));
}

// The element type docs/data-format.md gives a dataset; nullopt for names it does not document.
std::optional<DType> documentedType(const std::string& name) {
  namespace ds = io::ds;
  static const std::map<std::string, DType> types = {{ds::weight, DType::F64},
                                                     {ds::bosonP4, DType::F64},
                                                     {ds::tauP4, DType::F64},
                                                     {ds::visP4, DType::F64},
                                                     {ds::nuP4, DType::F64},
                                                     {ds::decayMode, DType::I8},
                                                     {ds::chargedPiP4, DType::F64},
                                                     {ds::neutralPiP4, DType::F64},
                                                     {ds::productsP4, DType::F64},
                                                     {ds::productsPdg, DType::I32},
                                                     {ds::recoilP4, DType::F64},
                                                     {ds::recoilPdg, DType::I32},
                                                     {ds::neutrinosEachP4, DType::F64},
                                                     {ds::neutrinosEachPdg, DType::I32},
                                                     {ds::partonPdg, DType::I32},
                                                     {ds::partonX, DType::F64},
                                                     {ds::spinB, DType::F64},
                                                     {ds::spinC, DType::F64},
                                                     {ds::primaryVertex, DType::F64},
                                                     {ds::tauDecayVertex, DType::F64},
                                                     {"/truth/input_status", DType::I8},
                                                     {ds::recoTauP4, DType::F64},
                                                     {ds::recoTauType, DType::I8},
                                                     {ds::recoChargedP4, DType::F64},
                                                     {ds::recoNeutralP4, DType::F64},
                                                     {ds::recoMet, DType::F64},
                                                     {ds::recoSumEt, DType::F64},
                                                     {ds::recoPrimaryVertex, DType::F64},
                                                     {ds::recoTrackIp, DType::F64},
                                                     {ds::recoJetsP4, DType::F64},
                                                     {ds::recoNJets, DType::I32},
                                                     {ds::recoChannel, DType::I8},
                                                     {ds::recoPassTrigger, DType::U8},
                                                     {ds::recoPassSr, DType::U8},
                                                     {ds::recoParticles, DType::F32},
                                                     {ds::recoParticlesMask, DType::U8}};
  if (const auto it = types.find(name); it != types.end()) return it->second;
  if (name.rfind("/nu/", 0) == 0) {
    const auto slash = name.rfind('/');
    const std::string leaf = name.substr(slash + 1);
    if (slash > 4 && (leaf == "p4" || leaf == "mtautau")) return DType::F64;
    if (slash > 4 && leaf == "status") return DType::I8;
    if (slash > 4 && leaf == "candidates") return DType::F32;
  }
  return std::nullopt;
}

template <class T>
void copyColumn(const std::vector<T>& values, py::array& out) {
  if (!values.empty()) std::memcpy(out.mutable_data(), values.data(), values.size() * sizeof(T));
}

}  // namespace

io::EventTable tableFromPython(const py::handle& datasets, const py::handle& attributes) {
  const auto numpy = py::module_::import("numpy");
  std::optional<std::size_t> nEvents;
  std::string first;
  std::vector<std::pair<std::string, py::array>> arrays;
  const py::dict all(py::reinterpret_borrow<py::object>(datasets));  // any mapping
  for (const auto& item : all) {
    if (!py::isinstance<py::str>(item.first))
      throw InputError(fmt::format("dataset names must be str, got {}",
                                   py::repr(item.first).cast<std::string>()));
    const auto name = item.first.cast<std::string>();
    if (name.size() < 2 || name[0] != '/' || name.back() == '/')
      throw InputError(fmt::format(
          "dataset '{}': names are HDF5 paths such as /reco/met (docs/data-format.md)", name));
    py::array a = numpy.attr("asarray")(item.second);
    if (a.ndim() < 1)
      throw InputError(
          fmt::format("dataset {}: a scalar; every dataset has one row per event", name));
    const auto rows = static_cast<std::size_t>(a.shape(0));
    if (!nEvents) {
      nEvents = rows;
      first = name;
    } else if (rows != *nEvents) {
      throw InputError(
          fmt::format("dataset {} has {} rows, but {} has {}: all datasets have one "
                      "row per event",
                      name, rows, first, *nEvents));
    }
    arrays.emplace_back(name, std::move(a));
  }
  io::EventTable table(nEvents.value_or(0));
  for (const auto& [name, a] : arrays) {
    if (!(putIf<double>(table, name, a) || putIf<float>(table, name, a) ||
          putIf<std::int8_t>(table, name, a) || putIf<std::uint8_t>(table, name, a) ||
          putIf<std::int32_t>(table, name, a) || putIf<std::int64_t>(table, name, a)))
      throw InputError(fmt::format(
          "dataset {}: element type {} cannot be stored in an event file (float64, float32, "
          "int8, uint8, int32 or int64, little-endian)",
          name, py::str(a.dtype()).cast<std::string>()));
  }
  if (!attributes.is_none()) {
    const py::dict attrs(py::reinterpret_borrow<py::object>(attributes));
    for (const auto& item : attrs) {
      const auto name = py::str(item.first).cast<std::string>();
      table.setAttribute(name, attributeFromPython(name, item.second));
    }
  }
  return table;
}

void checkEventTable(const io::EventTable& table) {
  for (const auto& [name, column] : table.columns()) {
    const auto expected = documentedType(name);
    if (expected && *expected != column.dtype())
      throw InputError(fmt::format(
          "dataset {} has element type {}, the event file stores {} ({}; docs/data-format.md): "
          "convert it with .astype(numpy.{})",
          name, numpyTypeName(column.dtype()), numpyTypeName(*expected), io::dtypeName(*expected),
          numpyTypeName(*expected)));
  }
  bool truth = false, reco = false;
  for (const auto& [name, column] : table.columns()) {
    truth = truth || name.rfind("/truth/", 0) == 0;
    reco = reco || name.rfind("/reco/", 0) == 0;
  }
  // The readers' own checks: shapes (an entry per documented axis) and values.
  if (truth) io::getTruth(table);
  if (reco) io::getReco(table);  // validateReco, then every /reco dataset of the group
  for (const auto& method : io::nuMethods(table)) io::getNu(table, method);
}

py::dict columnsToPython(const io::EventTable& table, const std::string& prefix) {
  py::dict out;
  for (const auto& [name, column] : table.columns()) {
    if (name.rfind(prefix, 0) != 0) continue;
    std::vector<py::ssize_t> shape = {static_cast<py::ssize_t>(table.nEvents())};
    for (const auto d : column.rowShape) shape.push_back(static_cast<py::ssize_t>(d));
    std::visit(
        [&](const auto& values) {
          using T = typename std::decay_t<decltype(values)>::value_type;
          py::array a(py::dtype::of<T>(), shape);
          copyColumn(values, a);
          out[py::str(name)] = std::move(a);
        },
        column.values);
  }
  return out;
}

py::dict attributesToPython(const io::EventTable& table) {
  py::dict out;
  for (const auto& [name, value] : table.attributes())
    std::visit([&](const auto& v) { out[py::str(name)] = py::cast(v); }, value);
  return out;
}

}  // namespace nurec::python
