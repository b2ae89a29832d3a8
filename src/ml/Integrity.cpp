#include "nurec/ml/Integrity.hpp"

#include <array>
#include <cstring>
#include <iterator>

#include <zlib.h>

#include "nurec/core/Error.hpp"
#include "nurec/core/TextFile.hpp"

namespace nurec::ml {

namespace {

constexpr std::array<std::uint32_t, 64> kSha256K = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline std::uint32_t rotr(std::uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

std::array<std::uint32_t, 256> makeCrcTable() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

// Little-endian field readers with bounds checks.
struct ZipReader {
  const std::string& bytes;
  const std::string& file;
  void need(std::uint64_t offset, std::uint64_t n, const std::string& what) const {
    if (offset > bytes.size() || n > bytes.size() - offset) {
      throw InputError(file + ": damaged archive (" + what + " lies outside the file of " +
                       std::to_string(bytes.size()) + " bytes)");
    }
  }
  std::uint64_t le(std::uint64_t offset, int n) const {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[offset + i]);
    return v;
  }
};

}  // namespace

Sha256::Sha256()
    : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19},
      buf_{} {}

void Sha256::block(const unsigned char* p) {
  std::uint32_t w[64];
  for (int i = 0; i < 16; ++i) {
    w[i] = (std::uint32_t(p[4 * i]) << 24) | (std::uint32_t(p[4 * i + 1]) << 16) |
           (std::uint32_t(p[4 * i + 2]) << 8) | std::uint32_t(p[4 * i + 3]);
  }
  for (int i = 16; i < 64; ++i) {
    const std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  std::uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6],
                h = h_[7];
  for (int i = 0; i < 64; ++i) {
    const std::uint32_t t1 =
        h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kSha256K[i] + w[i];
    const std::uint32_t t2 =
        (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
  h_[5] += f;
  h_[6] += g;
  h_[7] += h;
}

void Sha256::update(const void* data, std::size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  totalBytes_ += bytes;
  while (bytes > 0) {
    if (bufLen_ == 0 && bytes >= 64) {
      block(p);
      p += 64;
      bytes -= 64;
      continue;
    }
    const std::size_t n = std::min<std::size_t>(64 - bufLen_, bytes);
    std::memcpy(buf_ + bufLen_, p, n);
    bufLen_ += n;
    p += n;
    bytes -= n;
    if (bufLen_ == 64) {
      block(buf_);
      bufLen_ = 0;
    }
  }
}

std::string Sha256::hexDigest() {
  const std::uint64_t bits = totalBytes_ * 8;
  const unsigned char one = 0x80, zero = 0;
  update(&one, 1);
  while (bufLen_ != 56) update(&zero, 1);
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
  update(len, 8);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::uint32_t v : h_) {
    for (int s = 28; s >= 0; s -= 4) out.push_back(hex[(v >> s) & 0xF]);
  }
  return out;
}

std::string sha256Hex(const void* data, std::size_t bytes) {
  Sha256 s;
  s.update(data, bytes);
  return s.hexDigest();
}

std::uint32_t crc32(const void* data, std::size_t bytes, std::uint32_t crc) {
  static const std::array<std::uint32_t, 256> table = makeCrcTable();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < bytes; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

void verifyZipArchive(const std::string& bytes, const std::string& file) {
  const ZipReader z{bytes, file};
  if (bytes.size() < 22) {
    throw InputError(file + ": not a model archive (" + std::to_string(bytes.size()) +
                     " bytes, too short for a zip file)");
  }
  // End of central directory: the last "PK\5\6" within the final 64 KiB + 22 bytes.
  std::uint64_t eocd = bytes.size();
  const std::uint64_t lowest = bytes.size() > 65557 ? bytes.size() - 65557 : 0;
  for (std::uint64_t p = bytes.size() - 22 + 1; p-- > lowest;) {
    if (z.le(p, 4) == 0x06054b50) {
      eocd = p;
      break;
    }
  }
  if (eocd == bytes.size()) {
    throw InputError(file + ": not a model archive or truncated (no zip end-of-directory record)");
  }
  std::uint64_t entries = z.le(eocd + 10, 2), cdSize = z.le(eocd + 12, 4),
                cdOffset = z.le(eocd + 16, 4);
  if (entries == 0xFFFF || cdSize == 0xFFFFFFFF || cdOffset == 0xFFFFFFFF) {
    // Zip64: locator 20 bytes before the record points at the zip64 end-of-directory record.
    if (eocd < 20 || z.le(eocd - 20, 4) != 0x07064b50) {
      throw InputError(file + ": damaged archive (zip64 locator missing)");
    }
    const std::uint64_t rec = z.le(eocd - 20 + 8, 8);
    z.need(rec, 56, "the zip64 end-of-directory record");
    if (z.le(rec, 4) != 0x06064b50) throw InputError(file + ": damaged archive (zip64 record)");
    entries = z.le(rec + 32, 8);
    cdSize = z.le(rec + 40, 8);
    cdOffset = z.le(rec + 48, 8);
  }
  z.need(cdOffset, cdSize, "the central directory");
  if (entries == 0) throw InputError(file + ": empty archive");
  std::uint64_t p = cdOffset;
  for (std::uint64_t i = 0; i < entries; ++i) {
    z.need(p, 46, "central-directory entry " + std::to_string(i));
    if (z.le(p, 4) != 0x02014b50) {
      throw InputError(file + ": damaged archive (central-directory entry " + std::to_string(i) +
                       " has a bad signature)");
    }
    const auto method = z.le(p + 10, 2);
    const auto crc = static_cast<std::uint32_t>(z.le(p + 16, 4));
    std::uint64_t compSize = z.le(p + 20, 4), size = z.le(p + 24, 4);
    const std::uint64_t nameLen = z.le(p + 28, 2), extraLen = z.le(p + 30, 2),
                        commentLen = z.le(p + 32, 2);
    std::uint64_t local = z.le(p + 42, 4);
    z.need(p + 46, nameLen + extraLen + commentLen, "central-directory entry " + std::to_string(i));
    const std::string name = bytes.substr(p + 46, nameLen);
    // Zip64 extended information: 64-bit values for the fields set to 0xFFFFFFFF, in order.
    for (std::uint64_t e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const auto id = z.le(e, 2), len = z.le(e + 2, 2);
      if (id == 0x0001) {
        std::uint64_t q = e + 4;
        auto next = [&](std::uint64_t& field) {
          if (field != 0xFFFFFFFF) return;
          if (q + 8 > e + 4 + len) throw InputError(file + ": damaged archive (zip64 field)");
          field = z.le(q, 8);
          q += 8;
        };
        next(size);
        next(compSize);
        next(local);
      }
      e += 4 + len;
    }
    if (method != 0 && method != 8) {
      throw InputError(file + ": entry '" + name + "' uses zip compression method " +
                       std::to_string(method) + " (expected stored or deflate)");
    }
    z.need(local, 30, "the local header of '" + name + "'");
    if (z.le(local, 4) != 0x04034b50) {
      throw InputError(file + ": damaged archive (local header of '" + name + "')");
    }
    const std::uint64_t data = local + 30 + z.le(local + 26, 2) + z.le(local + 28, 2);
    z.need(data, compSize, "the data of '" + name + "'");
    std::uint32_t actual = 0;
    if (method == 0) {
      actual = crc32(bytes.data() + data, compSize);
    } else {  // deflate (TorchScript code entries): inflate, then check size and CRC
      if (size > (std::uint64_t(1) << 32)) {
        throw InputError(file + ": damaged archive (entry '" + name + "' claims " +
                         std::to_string(size) + " bytes)");
      }
      std::string out(size, '\0');
      z_stream zs{};
      if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) throw Error("zlib: inflateInit2 failed");
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + data));
      zs.avail_in = static_cast<uInt>(compSize);
      zs.next_out = reinterpret_cast<Bytef*>(out.data());
      zs.avail_out = static_cast<uInt>(size);
      const int rc = inflate(&zs, Z_FINISH);
      const bool complete = rc == Z_STREAM_END && zs.total_out == size;
      inflateEnd(&zs);
      if (!complete) {
        throw InputError(file + ": damaged file: entry '" + name + "' does not decompress");
      }
      actual = crc32(out.data(), out.size());
    }
    if (actual != crc) {
      throw InputError(file + ": damaged file: the checksum (CRC-32) of entry '" + name +
                       "' does not match; the file was changed or corrupted after it was written");
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
}

std::string readFileBytes(const std::string& path) {
  auto bytes = readWholeFile(path);
  if (!bytes) throw InputError("cannot open or read '" + path + "'");
  return std::move(*bytes);
}

}  // namespace nurec::ml
