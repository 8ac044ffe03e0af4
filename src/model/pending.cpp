// TEMPORARY: entry points whose implementations are being written in their own
// files (HF loader, sentencepiece / HF BPE tokenizers, quantized folders).
// Each is removed from here when its file lands.
#include "mrgptq/error.hpp"
#include "mrgptq/model.hpp"

namespace mrgptq {

std::unique_ptr<ModelSource> open_quantized(const std::string& dir) {
  throw Error(dir + ": quantized folders are not supported yet");
}

}  // namespace mrgptq
