#pragma once
// Where nurec finds the files it ships (data/mmc/, data/spin-response/, models/): the same
// relative path is looked up, in order, in
//   1. $NUREC_DATA_DIR, when set (a folder laid out like share/nurec: data/, models/);
//   2. <folder of the running executable>/../share/nurec (an installed nurec: bin/nurec next to
//      share/nurec/, docs/design.md "Installation");
//   3. <folder of libnurec_core.so>/../share/nurec (a program of another project linked against
//      an installed nurec: lib/ next to share/nurec/);
//   4. the source tree nurec was built from (compiled in), so a build runs without installing.
// The first location where the path exists wins. Nothing is cached: the environment is read on
// every call (cheap, a few stat calls, and tests can change it).
#include <string>
#include <vector>

namespace nurec {

// The default diffusion model, relative to the shipped-files folder (docs/ml.md "Visible-frame
// inputs"; the spin model of docs/quantum.md). Here, not in ml/, so that builds without the ML
// library (the Python module, `nurec demo`'s error text) name the same model.
inline constexpr const char* kDefaultDiffusionModel = "models/ztautau_ip_vf_neutral";

// The candidate locations of `relative` (e.g. "data/mmc/mmc_pdfs_v1.json"), in search order.
std::vector<std::string> shippedFileCandidates(const std::string& relative);

// The first existing candidate; if none exists, the last one (the source tree), so that the
// caller's "no such file" error names a path. Use shippedFileSearchText() in such messages.
std::string shippedFile(const std::string& relative);

// "looked in: A, B, C" for error messages.
std::string shippedFileSearchText(const std::string& relative);

// The search itself, with every input explicit (for tests): envDataDir may be empty (unset),
// executableDir and libraryDir may be empty (unknown, or a static build).
std::vector<std::string> shippedFileCandidates(const std::string& relative,
                                               const std::string& envDataDir,
                                               const std::string& executableDir,
                                               const std::string& libraryDir,
                                               const std::string& sourceDir);

}  // namespace nurec
