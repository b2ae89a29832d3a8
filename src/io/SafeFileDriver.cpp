#include "nurec/io/SafeFileDriver.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>

namespace nurec::io {
namespace {

// The driver's per-file state; HDF5's public part must come first.
struct SafeFile {
  H5FD_t pub;
  int fd = -1;
  haddr_t eoa = 0;  // end of the address space HDF5 has allocated
  haddr_t eof = 0;  // end of what the file holds on disk
  dev_t device = 0;
  ino_t inode = 0;
  std::string writeError;  // first failed write; later writes are dropped
};

SafeFile* cast(H5FD_t* f) {
  return reinterpret_cast<SafeFile*>(f);
}
const SafeFile* cast(const H5FD_t* f) {
  return reinterpret_cast<const SafeFile*>(f);
}

herr_t fail(const char* what) {
  H5Epush2(H5E_DEFAULT, __FILE__, "nurec safe file driver", __LINE__, H5E_ERR_CLS, H5E_VFL,
           H5E_CANTOPENFILE, "%s: %s", what, std::strerror(errno));
  return -1;
}

H5FD_t* openFile(const char* name, unsigned flags, hid_t /*fapl*/, haddr_t /*maxaddr*/) {
  int oflags = (flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY;
  if (flags & H5F_ACC_TRUNC) oflags |= O_TRUNC;
  if (flags & H5F_ACC_CREAT) oflags |= O_CREAT;
  if (flags & H5F_ACC_EXCL) oflags |= O_EXCL;
  const int fd = ::open(name, oflags | O_CLOEXEC, 0666);
  if (fd < 0) {
    fail(name);
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    fail(name);
    ::close(fd);
    return nullptr;
  }
  auto* f = new (std::nothrow) SafeFile();
  if (f == nullptr) {
    ::close(fd);
    return nullptr;
  }
  f->fd = fd;
  f->eof = static_cast<haddr_t>(st.st_size);
  f->device = st.st_dev;
  f->inode = st.st_ino;
  return &f->pub;
}

herr_t closeFile(H5FD_t* file) {
  SafeFile* f = cast(file);
  const int rc = ::close(f->fd);
  delete f;
  return rc == 0 ? 0 : fail("close");
}

int compareFiles(const H5FD_t* a, const H5FD_t* b) {
  const SafeFile* x = cast(a);
  const SafeFile* y = cast(b);
  if (x->device != y->device) return x->device < y->device ? -1 : 1;
  if (x->inode != y->inode) return x->inode < y->inode ? -1 : 1;
  return 0;
}

herr_t query(const H5FD_t* /*file*/, unsigned long* flags) {
  // The same optimisations HDF5's own POSIX driver declares.
  *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
           H5FD_FEAT_AGGREGATE_SMALLDATA;
  return 0;
}

haddr_t getEoa(const H5FD_t* file, H5FD_mem_t /*type*/) {
  return cast(file)->eoa;
}

herr_t setEoa(H5FD_t* file, H5FD_mem_t /*type*/, haddr_t addr) {
  cast(file)->eoa = addr;
  return 0;
}

haddr_t getEof(const H5FD_t* file, H5FD_mem_t /*type*/) {
  return cast(file)->eof;
}

herr_t getHandle(H5FD_t* file, hid_t /*fapl*/, void** handle) {
  *handle = cast(file);  // safeFileWriteError reads the state through this
  return 0;
}

herr_t readBlock(H5FD_t* file, H5FD_mem_t /*type*/, hid_t /*dxpl*/, haddr_t addr, size_t size,
                 void* buffer) {
  SafeFile* f = cast(file);
  auto* out = static_cast<unsigned char*>(buffer);
  while (size > 0) {
    const ssize_t n = ::pread(f->fd, out, size, static_cast<off_t>(addr));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("read");
    if (n == 0) break;  // past the end of the file: zeros, as HDF5 expects
    out += n;
    addr += static_cast<haddr_t>(n);
    size -= static_cast<size_t>(n);
  }
  std::fill(out, out + size, 0);
  return 0;
}

herr_t writeBlock(H5FD_t* file, H5FD_mem_t /*type*/, hid_t /*dxpl*/, haddr_t addr, size_t size,
                  const void* buffer) {
  SafeFile* f = cast(file);
  if (!f->writeError.empty()) return 0;  // the file is lost already: let HDF5 finish cleanly
  const auto* in = static_cast<const unsigned char*>(buffer);
  const haddr_t start = addr;
  const size_t total = size;
  while (size > 0) {
    const ssize_t n = ::pwrite(f->fd, in, size, static_cast<off_t>(addr));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      f->writeError =
          fmt::format("{} (wrote {} of {} bytes at offset {})",
                      n < 0 ? std::strerror(errno) : "nothing written", total - size, total, start);
      return 0;
    }
    in += n;
    addr += static_cast<haddr_t>(n);
    size -= static_cast<size_t>(n);
  }
  f->eof = std::max(f->eof, addr);
  return 0;
}

herr_t truncateFile(H5FD_t* file, hid_t /*dxpl*/, hbool_t /*closing*/) {
  SafeFile* f = cast(file);
  if (!f->writeError.empty() || f->eoa == f->eof) return 0;
  if (::ftruncate(f->fd, static_cast<off_t>(f->eoa)) != 0) {
    f->writeError =
        fmt::format("{} (setting the file size to {} bytes)", std::strerror(errno), f->eoa);
    return 0;
  }
  f->eof = f->eoa;
  return 0;
}

H5FD_class_t makeClass() {
  H5FD_class_t c{};
  c.name = "nurec_safe";
  c.maxaddr = static_cast<haddr_t>(std::numeric_limits<off_t>::max());
  c.fc_degree = H5F_CLOSE_WEAK;
  c.open = openFile;
  c.close = closeFile;
  c.cmp = compareFiles;
  c.query = query;
  c.get_eoa = getEoa;
  c.set_eoa = setEoa;
  c.get_eof = getEof;
  c.get_handle = getHandle;
  c.read = readBlock;
  c.write = writeBlock;
  c.truncate = truncateFile;
  const H5FD_mem_t map[] = H5FD_FLMAP_DICHOTOMY;
  std::copy(std::begin(map), std::end(map), c.fl_map);
  return c;
}

hid_t driverId() {
  static const H5FD_class_t cls = makeClass();
  static const hid_t id = H5FDregister(&cls);
  return id;
}

}  // namespace

hid_t safeFileAccessList() {
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0 || driverId() < 0 || H5Pset_driver(fapl, driverId(), nullptr) < 0) return -1;
  return fapl;
}

std::string safeFileWriteError(hid_t fileId) {
  void* handle = nullptr;
  if (H5Fget_vfd_handle(fileId, H5P_DEFAULT, &handle) < 0 || handle == nullptr)
    return "the HDF5 file driver is not nurec's";
  return static_cast<const SafeFile*>(handle)->writeError;
}

}  // namespace nurec::io
