// Errors: every failure the user can cause is an mrgptq::Error whose message is
// one line that names the thing at fault (file, tensor, row/column).
#pragma once
#include <stdexcept>
#include <string>

namespace mrgptq {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace mrgptq
