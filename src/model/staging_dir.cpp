#include "staging_dir.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "mrgptq/error.hpp"

namespace fs = std::filesystem;

namespace mrgptq {
namespace {

// The staging folder in progress, for the signal handler (a fixed buffer:
// nothing is allocated there).
char g_staging[4096] = {0};

void on_signal(int sig) {
  if (g_staging[0]) {
    std::error_code ec;
    fs::remove_all(g_staging, ec);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

StagingDir::StagingDir(const std::string& out, bool force) : out_(out) {
  if (fs::exists(out) && !force) throw Error(out + ": already exists (use --force to replace it)");
  const fs::path parent = fs::absolute(out).parent_path();
  if (!fs::is_directory(parent)) throw Error(out + ": parent folder does not exist");
  std::string tmpl = (parent / (fs::path(out).filename().string() + ".tmp-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) throw Error(out + ": cannot create a staging folder beside it");
  // mkdtemp makes it private (0700); the finished folder should read like any other.
  std::error_code perm_ec;
  fs::permissions(tmpl,
                  fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                      fs::perms::others_read | fs::perms::others_exec,
                  perm_ec);
  dir_ = tmpl;
  std::snprintf(g_staging, sizeof g_staging, "%s", dir_.c_str());
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

StagingDir::~StagingDir() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  g_staging[0] = 0;
}

void StagingDir::commit() {
  std::error_code ec;
  if (fs::exists(out_)) fs::remove_all(out_, ec);  // only reachable with force
  fs::rename(dir_, out_, ec);
  if (ec) throw Error(out_ + ": cannot move the finished model into place: " + ec.message());
  committed_ = true;
  g_staging[0] = 0;
}

}  // namespace mrgptq
