#pragma once
// An HDF5 file driver for files that nurec streams to disk (io::EventFileWriter).
//
// Why it exists: with HDF5 1.10's own POSIX driver, a write that fails (a full disk, a file-size
// limit, an I/O error) leaves the file unflushable; H5Fclose then fails, the file stays in HDF5's
// table of open files and the library crashes when it closes that table at process exit
// (H5F__close_cb, SIGSEGV; docs/reliability.md). This driver is HDF5's plain pread/pwrite driver
// with one difference: after the first failed write it remembers the system's reason and turns
// every later write into a no-op that reports success. HDF5 therefore always closes the file
// cleanly, and the caller — which checks writeError() after each operation — reports the reason,
// deletes the (now useless) file and exits with an error instead of a crash.
#include <hdf5.h>

#include <string>

namespace nurec::io {

// A file access property list using the driver (register on first use); caller closes it.
hid_t safeFileAccessList();

// The reason of the first failed write on the file of `fileId` ("" when every write succeeded),
// e.g. "No space left on device (wrote 0 of 1048576 bytes at offset 3145728)".
std::string safeFileWriteError(hid_t fileId);

}  // namespace nurec::io
