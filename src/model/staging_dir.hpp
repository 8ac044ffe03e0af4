// A folder that appears whole or not at all: everything is written into
// OUT.tmp-XXXXXX beside OUT, commit() renames it into place, and destruction
// before commit() -- an exception, an early return, SIGINT or SIGTERM --
// removes it. One staging folder at a time per process.
#pragma once
#include <string>

namespace mrgptq {

class StagingDir {
 public:
  // Refuses an existing `out` unless `force`, and a missing parent folder.
  StagingDir(const std::string& out, bool force);
  ~StagingDir();
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;

  const std::string& path() const { return dir_; }
  void commit();  // replaces `out` (only possible with force) by the staged folder

 private:
  std::string out_, dir_;
  bool committed_ = false;
};

}  // namespace mrgptq
