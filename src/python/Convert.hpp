#pragma once
// numpy arrays <-> io::EventTable for the Python module (docs/python.md). Every function here
// needs the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "nurec/io/EventTable.hpp"

namespace nurec::python {

namespace py = pybind11;

// A table from a mapping dataset name -> array (anything numpy.asarray takes) and one of file
// attributes (str, int or float values). Refuses, with an InputError naming the dataset, an
// element type the event file cannot store, a dataset without an event axis and row counts that
// differ. Arrays are copied.
io::EventTable tableFromPython(const py::handle& datasets, const py::handle& attributes);

// Checks what the event file's readers would refuse (docs/data-format.md): the documented
// datasets have their documented element type, and the /reco, /truth and /nu/<method> groups
// present are complete, with the shapes and values nurec's readers require. Throws InputError
// naming the dataset.
void checkEventTable(const io::EventTable& table);

// The columns whose name starts with `prefix` (all for ""), as name -> numpy array of shape
// (N, row shape...) and the event file's element type.
py::dict columnsToPython(const io::EventTable& table, const std::string& prefix = "");
// The file attributes as name -> str, int or float.
py::dict attributesToPython(const io::EventTable& table);

}  // namespace nurec::python
