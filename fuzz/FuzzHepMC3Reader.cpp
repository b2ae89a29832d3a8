// libFuzzer harness for the HepMC3 ASCII reader (plain and gzip). Any input must either read or
// throw nurec::Error; a crash, sanitizer report, hang or any other exception is a finding.
#include "FuzzInput.hpp"
#include "nurec/core/Error.hpp"
#include "nurec/io/HepMC3Reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static nurec::fuzz::ScratchFile scratch(".hepmc3");
  const std::string& path = scratch.write(data, size);
  try {
    const nurec::io::HepMC3Input in = nurec::io::readHepMC3(path);
    // Every record has one status and one event number.
    if (in.status.size() != in.events.size() || in.eventNumbers.size() != in.events.size())
      std::abort();
  } catch (const nurec::Error&) {
    // A clear, named rejection is the expected outcome for damaged input.
  }
  return 0;
}
