#pragma once
// Integrity of the files the ML library writes and reads (docs/reliability.md): checksums, a
// verifier for the zip container of torch::serialize / TorchScript archives, and whole-file
// reads. LibTorch's reader does not check the zip CRCs, so a damaged model.pt would otherwise
// load and give wrong neutrinos without a word. Torch-free.
#include <cstddef>
#include <cstdint>
#include <string>

namespace nurec::ml {

// Incremental SHA-256 (FIPS 180-4).
class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t bytes);
  std::string hexDigest();  // 64 lowercase hex digits; ends the computation

 private:
  void block(const unsigned char* p);
  std::uint32_t h_[8];
  unsigned char buf_[64];
  std::size_t bufLen_ = 0;
  std::uint64_t totalBytes_ = 0;
};

std::string sha256Hex(const void* data, std::size_t bytes);

// CRC-32 as used by zip (polynomial 0xEDB88320), continuing from `crc`.
std::uint32_t crc32(const void* data, std::size_t bytes, std::uint32_t crc = 0);

// Checks a zip archive held in memory: end-of-central-directory record (zip64 included), every
// central-directory entry and its local header inside the file, and the CRC-32 of every entry's
// data (stored entries directly, deflated ones after inflating). Throws InputError naming `file`
// and the first damaged entry.
void verifyZipArchive(const std::string& bytes, const std::string& file);

// Reads a whole file; InputError naming it when it cannot be opened or read.
std::string readFileBytes(const std::string& path);

}  // namespace nurec::ml
