#pragma once
// Checks on an output path before any work is done, so that a mistyped --out fails at once with
// a message that says what is wrong instead of an "unexpected error" at the end of a long run, and
// no command can write its result over one of its own inputs (docs/reliability.md).
#include <string>
#include <vector>

namespace nurec {

enum class OutputKind {
  File,       // a file written atomically (its folder is created)
  Directory,  // a report or model folder (created)
};

// Throws nurec::Error naming the option and the path when `path` is empty, ends in '/' or is an
// existing directory for a File (an existing file for a Directory), lies in a folder that exists
// but cannot be written, or is the same file as one of `inputs` (also through links). `derived`
// lists further files the command writes beside `path` (e.g. spin's .md table): they are checked
// against the inputs too. In-place updates (reconstruct) simply leave the input out of `inputs`.
void checkOutputPath(const std::string& option, const std::string& path, OutputKind kind,
                     const std::vector<std::string>& inputs = {},
                     const std::vector<std::string>& derived = {});

// True when a and b name the same file system object (or, if either does not exist yet, the same
// normalised absolute path).
bool samePath(const std::string& a, const std::string& b);

}  // namespace nurec
