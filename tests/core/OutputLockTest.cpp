// The advisory output lock (core/OutputLock.hpp): one holder at a time, the waiter continues once
// the holder is done, the lock file is gone afterwards (issue 22.8: two in-place writers lost an
// update).
#include "nurec/core/OutputLock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "common/TempDir.hpp"
#include "nurec/core/Error.hpp"

using namespace nurec;

TEST(OutputLock, SecondWriterIsRefusedOrWaits) {
  TempDir dir;
  const std::string out = dir.file("sub/nu.h5");
  std::atomic<bool> secondHasLock{false};
  std::thread waiter;
  {
    OutputLock first(out);
    EXPECT_TRUE(std::filesystem::exists(out + ".lock"));
    try {
      OutputLock second(out, OutputLock::Wait::No);
      ADD_FAILURE() << "a held lock was taken twice";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("another process is writing " + out), std::string::npos)
          << e.what();
    }
    // flock locks belong to the open file, so a thread stands in for a second process.
    waiter = std::thread([&] {
      OutputLock second(out);
      secondHasLock = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_FALSE(secondHasLock.load()) << "the waiter did not wait for the holder";
  }
  waiter.join();
  EXPECT_TRUE(secondHasLock.load());
  EXPECT_FALSE(std::filesystem::exists(out + ".lock"));
  { OutputLock again(out, OutputLock::Wait::No); }  // free again
}

// A directory output given with a trailing slash ("model/") is locked beside the directory, as
// "model": a lock file inside it made `nurec train --out model/` refuse its own directory.
TEST(OutputLock, TrailingSlashLocksBesideTheDirectory) {
  TempDir dir;
  {
    OutputLock lock(dir.file("model/"));
    EXPECT_EQ(lock.lockPath(), dir.file("model.lock"));
    EXPECT_TRUE(std::filesystem::exists(dir.file("model.lock")));
    EXPECT_FALSE(std::filesystem::exists(dir.file("model/.lock")));
    try {
      OutputLock same(dir.file("model"), OutputLock::Wait::No);
      ADD_FAILURE() << "model/ and model were locked at once";
    } catch (const Error&) {
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("model.lock")));
}
