// libFuzzer harness for the HDF5 event-file reader (docs/data-format.md). Any input must either
// read or throw nurec::Error; a crash, sanitizer report, hang or any other exception is a finding.
#include "FuzzInput.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/io/EventFile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static nurec::fuzz::ScratchFile scratch(".h5");
  const std::string& path = scratch.write(data, size);
  try {
    (void)nurec::io::readEventFile(path);
  } catch (const nurec::Error&) {
    // A clear, named rejection is the expected outcome for damaged input.
  }
  return 0;
}
