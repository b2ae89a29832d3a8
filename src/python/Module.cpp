// The compiled part of the Python module nurec (docs/python.md): event files, reconstruction and
// the spin measurement on numpy arrays. The public API with its keyword options lives in
// nurec/__init__.py; these functions take the options as one dict whose absent or None entries
// keep the library's defaults. Long calls run without the GIL.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <fmt/format.h>

#include <set>

#include "nurec/Version.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/core/ShippedFiles.hpp"
#include "nurec/io/EventFile.hpp"
#include "nurec/io/Schema.hpp"
#include "nurec/python/Convert.hpp"
#include "nurec/quantum/SpinMeasurement.hpp"
#include "nurec/reco/Reconstruct.hpp"
#ifdef NUREC_ML_AVAILABLE
#include "nurec/ml/Api.hpp"
#endif

namespace nurec::python {
namespace {

// Python exception classes; created once and kept for the life of the interpreter.
PyObject* errorType = nullptr;
PyObject* inputErrorType = nullptr;
PyObject* configErrorType = nullptr;

PyObject* newException(py::module_& m, const char* name, const char* doc, py::tuple bases) {
  PyObject* type =
      PyErr_NewExceptionWithDoc(fmt::format("nurec.{}", name).c_str(), doc, bases.ptr(), nullptr);
  if (!type) throw py::error_already_set();
  m.add_object(name, py::handle(type));  // our reference is kept: the type lives as long as Python
  return type;
}

// An option from the dict, converted to T; absent or None keeps `value`.
template <class T>
void option(const py::dict& options, const char* key, T& value) {
  if (!options.contains(key)) return;
  const py::object v = options[key];
  if (v.is_none()) return;
  try {
    value = v.cast<T>();
  } catch (const py::cast_error&) {
    throw ConfigError(
        fmt::format("option {}={}: wrong type", key, py::repr(v).cast<std::string>()));
  }
}

// The attributes the call added or changed.
py::dict changedAttributes(const io::EventTable& table,
                           const std::map<std::string, io::AttributeValue>& before) {
  py::dict all = attributesToPython(table);
  py::dict out;
  for (const auto& [name, value] : table.attributes()) {
    const auto it = before.find(name);
    if (it == before.end() || it->second != value) out[py::str(name)] = all[py::str(name)];
  }
  return out;
}

py::tuple readEventFile(const std::string& path) {
  io::EventTable table;
  {
    py::gil_scoped_release release;
    table = io::readEventFile(path);
  }
  return py::make_tuple(columnsToPython(table), attributesToPython(table));
}

void writeEventFile(const std::string& path, const py::handle& datasets,
                    const py::handle& attributes) {
  io::EventTable table = tableFromPython(datasets, attributes);
  checkEventTable(table);
  if (!table.hasAttribute("producer")) table.setAttribute("producer", std::string(kProducer));
  py::gil_scoped_release release;
  io::writeEventFile(path, table);
}

void checkTable(const py::handle& datasets, const py::handle& attributes) {
  checkEventTable(tableFromPython(datasets, attributes));
}

py::tuple reconstruct(const py::handle& datasets, const py::handle& attributes,
                      const std::string& method, const py::dict& options) {
  static const std::set<std::string> classical = {"collinear", "mmc", "fastmtt", "ip"};
  if (method != "diffusion" && !classical.count(method))
    throw ConfigError(fmt::format(
        "reconstruct: unknown method '{}' (expected collinear, mmc, fastmtt, ip or diffusion)",
        method));
  io::EventTable table = tableFromPython(datasets, attributes);
  const auto before = table.attributes();
  int threads = 0;
  option(options, "threads", threads);
  std::string name = method;
  if (method == "diffusion") {
#ifdef NUREC_ML_AVAILABLE
    ml::DiffusionReconstructOptions d;
    d.threads = threads;
    option(options, "model", d.modelDir);
    option(options, "candidates", d.candidates);
    option(options, "steps", d.steps);
    option(options, "sampler", d.sampler);
    option(options, "eta", d.eta);
    option(options, "selection", d.selection);
    option(options, "seed", d.seed);
    option(options, "batch_events", d.batchEvents);
    option(options, "method_name", d.methodName);
    if (d.modelDir.empty()) d.modelDir = shippedFile(kDefaultDiffusionModel);
    name = d.methodName;
    py::gil_scoped_release release;
    ml::reconstructDiffusion(table, d);
    table.setAttribute(io::nuModelAttribute(d.methodName), io::diffusionModelLabel(d.modelDir));
#else
    throw ConfigError(
        "reconstruct method 'diffusion': this nurec was built without the ML library (LibTorch "
        "not found or NUREC_WITH_TORCH=OFF); use collinear, mmc, fastmtt or ip");
#endif
  } else {
    reco::ClassicalRecoConfig c;
    c.progress = false;
    option(options, "progress", c.progress);
    option(options, "seed", c.seed);
    option(options, "min_abs_sin_dphi", c.collinear.minAbsSinDeltaPhi);
    option(options, "mmc_pdfs", c.mmc.pdfPath);
    option(options, "mmc_points", c.mmc.points);
    option(options, "mmc_tau_probability", c.mmc.useTauProbability);
    option(options, "met_k", c.mmc.met.stochasticTermSqrtGeV);
    option(options, "met_floor", c.mmc.met.floorGeV);
    option(options, "fastmtt_grid", c.fastMtt.gridPoints);
    c.fastMtt.met = c.mmc.met;
    c.ip.met = c.mmc.met;
    std::string scan = "random", estimator = "mlm", weight = "kinematic";
    option(options, "mmc_scan", scan);
    option(options, "mmc_estimator", estimator);
    option(options, "mmc_weight", weight);
    // The values of `nurec reconstruct --mmc-scan/--mmc-estimator/--mmc-weight`.
    if (scan == "markov") {
      c.mmc.scan = reco::MmcScan::Markov;
    } else if (scan != "random") {
      throw ConfigError(fmt::format("mmc_scan '{}': expected random or markov", scan));
    }
    if (estimator == "maxw") {
      c.mmc.massEstimator = reco::MmcMassEstimator::Maxw;
    } else if (estimator == "mlnu3p") {
      c.mmc.massEstimator = reco::MmcMassEstimator::Mlnu3p;
    } else if (estimator != "mlm") {
      throw ConfigError(fmt::format("mmc_estimator '{}': expected mlm, maxw or mlnu3p", estimator));
    }
    if (weight == "angle-table") {
      c.mmc.weight = reco::MmcWeight::AngleTable;
    } else if (weight != "kinematic") {
      throw ConfigError(fmt::format("mmc_weight '{}': expected kinematic or angle-table", weight));
    }
    py::gil_scoped_release release;
    reco::reconstructClassical(table, method, c, threads);
  }
  return py::make_tuple(columnsToPython(table, "/nu/" + name + "/"),
                        changedAttributes(table, before));
}

py::tuple measureSpin(const py::handle& datasets, const py::handle& attributes,
                      const std::string& method, const py::dict& options) {
  const io::EventTable table = tableFromPython(datasets, attributes);
  quantum::SpinConfig c;
  c.analysers.method = method;
  std::string lepton = "energy", rho = "polarimeter", candidates = "auto", calibration = "auto";
  bool allEvents = false, massConstraint = true;
  int threads = 0;
  option(options, "lepton_analyser", lepton);
  option(options, "rho_analyser", rho);
  option(options, "candidates", candidates);
  option(options, "calibration", calibration);
  option(options, "all_events", allEvents);
  option(options, "mass_constraint", massConstraint);
  option(options, "threads", threads);
  option(options, "closure_test", c.closureTest);
  option(options, "lumi", c.significance.lumiInvFb);
  option(options, "k_factor", c.significance.kFactor);
  option(options, "efficiency", c.significance.efficiency);
  option(options, "background_per_fb", c.significance.backgroundPerInvFb);
  option(options, "signal_per_fb", c.significance.signalPerInvFb);
  option(options, "toys", c.significance.pseudoExperiments);
  option(options, "bootstrap", c.bootstrap.replicas);
  option(options, "seed", c.bootstrap.seed);
  option(options, "candidate_replicas", c.candidateReplicas);
  option(options, "variations", c.variations);
  option(options, "progress", c.showProgress);
  // As `nurec spin` assembles its configuration (app/CmdSpin.cpp).
  c.analysers.lepton = quantum::parseLeptonAnalyser(lepton);
  c.analysers.rho = quantum::parseRhoAnalyser(rho);
  c.analysers.requireSignalRegion = !allEvents;
  c.analysers.tauMassConstraint = massConstraint;
  if (candidates != "auto") c.analysers.candidates = quantum::parseCandidateUse(candidates);
  c.bootstrap.threads = c.closureCalibration.threads = c.significance.threads = threads;
  c.validate();
  std::string json, note;
  std::vector<std::string> warnings;
  {
    py::gil_scoped_release release;
    c.analysers.candidates = quantum::resolveCandidateUse(candidates, table, method);
    note = quantum::resolveSpinCalibration(calibration, table, "", threads, c);
    c.validate();
    const quantum::SpinReport report = quantum::measureSpin(table, c);
    warnings = report.calibrationWarnings;
    json = quantum::spinReportJson(report);
  }
  return py::make_tuple(json, note, warnings);
}

}  // namespace
}  // namespace nurec::python

PYBIND11_MODULE(_nurec, m) {
  namespace py = pybind11;
  using namespace nurec::python;
  m.doc() =
      "Compiled part of nurec (docs/python.md); use the functions of the package nurec instead.";
  m.attr("__version__") = nurec::kVersion;

  const py::object runtimeError = py::reinterpret_borrow<py::object>(PyExc_RuntimeError);
  const py::object valueError = py::reinterpret_borrow<py::object>(PyExc_ValueError);
  errorType = newException(m, "Error",
                           "Base of the errors nurec raises on purpose; the message names the "
                           "file, dataset or option and what was expected.",
                           py::make_tuple(runtimeError));
  const py::object error = py::reinterpret_borrow<py::object>(errorType);
  inputErrorType = newException(
      m, "InputError",
      "Unreadable or invalid input data: not an event file, a missing dataset, a wrong shape or "
      "element type, a non-finite value.",
      py::make_tuple(error, valueError));
  configErrorType =
      newException(m, "ConfigError",
                   "An impossible or inconsistent option: an unknown method, a value out of range.",
                   py::make_tuple(error, valueError));
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const nurec::InputError& e) {
      PyErr_SetString(inputErrorType, e.what());
    } catch (const nurec::ConfigError& e) {
      PyErr_SetString(configErrorType, e.what());
    } catch (const nurec::Error& e) {
      PyErr_SetString(errorType, e.what());
    }
  });

  m.def("read_event_file", &readEventFile, py::arg("path"),
        "(datasets, attributes) of an event file: dataset name -> numpy array, attribute name -> "
        "str, int or float.");
  m.def("write_event_file", &writeEventFile, py::arg("path"), py::arg("datasets"),
        py::arg("attributes"),
        "Checks the datasets (element types, shapes, values) and writes them atomically.");
  m.def("check_datasets", &checkTable, py::arg("datasets"), py::arg("attributes"),
        "Raises InputError where write_event_file would refuse the datasets.");
  m.def("reconstruct", &reconstruct, py::arg("datasets"), py::arg("attributes"), py::arg("method"),
        py::arg("options"),
        "(new /nu/<method>/ datasets, added or changed attributes) of one reconstruction.");
  m.def("measure_spin", &measureSpin, py::arg("datasets"), py::arg("attributes"), py::arg("method"),
        py::arg("options"),
        "(report JSON as `nurec spin` writes it, calibration note, calibration warnings).");
  m.def(
      "shipped_file", [](const std::string& relative) { return nurec::shippedFile(relative); },
      py::arg("relative"),
      "Path of a file nurec ships (data/..., models/...): $NUREC_DATA_DIR, the installation, "
      "then the source tree.");
  m.attr("DEFAULT_MODEL") = nurec::kDefaultDiffusionModel;
}
