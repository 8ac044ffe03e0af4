// sentencepiece tokenizer.model through libsentencepiece.
#include <sentencepiece_processor.h>

#include "mrgptq/error.hpp"
#include "mrgptq/tokenizer.hpp"

namespace mrgptq {
namespace {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(const std::string& path) {
    const auto st = sp_.Load(path);
    if (!st.ok()) throw Error(path + ": cannot load sentencepiece model (" + st.ToString() + ")");
  }
  std::vector<int> encode(std::string_view text, bool bos) const override {
    std::vector<int> ids;
    const auto st = sp_.Encode(std::string(text), &ids);
    if (!st.ok()) throw Error("sentencepiece encode failed: " + st.ToString());
    if (bos && sp_.bos_id() >= 0) ids.insert(ids.begin(), sp_.bos_id());
    return ids;
  }
  std::string decode(int id) const override {
    if (id < 0 || id >= vocab_size())
      throw Error("token id " + std::to_string(id) + " out of range");
    return sp_.IdToPiece(id);
  }
  int vocab_size() const override { return sp_.GetPieceSize(); }
  int bos_id() const override { return sp_.bos_id(); }

 private:
  sentencepiece::SentencePieceProcessor sp_;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& path) {
  return std::make_unique<SentencePieceTokenizer>(path);
}

}  // namespace mrgptq
