#include "eval/Evaluate.hpp"

namespace nurec::eval {

// NUREC_EVAL_SOURCE_DIR is set by src/eval/CMakeLists.txt to the repository the library was built
// from, so `nurec demo` finds the shipped models/ without being told.
std::string sourceDirectory() {
  return NUREC_EVAL_SOURCE_DIR;
}

}  // namespace nurec::eval
