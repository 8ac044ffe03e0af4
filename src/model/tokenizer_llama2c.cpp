// llama2.c's tokenizer.bin, encoding exactly as run.c's encode():
//   BOS; a dummy-prefix " " piece when the text is non-empty; each UTF-8
//   codepoint looked up as a piece, else its bytes as ids byte+3; then merge,
//   repeatedly, the adjacent pair whose concatenation is the highest-scoring
//   piece (leftmost on ties) until no pair merges.
// run.c rescans the whole sequence after each merge (quadratic). We keep the
// candidate pairs in a heap ordered by (score desc, position asc) over a
// linked list, which picks the same pair at every step: the best score, and
// among equals the leftmost, because list order is original position order.
#include <cstring>
#include <fstream>
#include <queue>
#include <unordered_map>

#include "mrgptq/error.hpp"
#include "mrgptq/tokenizer.hpp"

namespace mrgptq {
namespace {

class Llama2cTokenizer final : public Tokenizer {
 public:
  Llama2cTokenizer(const std::string& path, int vocab) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error(path + ": cannot open tokenizer");
    int32_t max_len = 0;
    if (!f.read(reinterpret_cast<char*>(&max_len), 4) || max_len <= 0)
      throw Error(path + ": not a llama2.c tokenizer (bad header)");
    for (int i = 0; i < vocab; ++i) {
      float score;
      int32_t len;
      if (!f.read(reinterpret_cast<char*>(&score), 4) ||
          !f.read(reinterpret_cast<char*>(&len), 4) || len < 0 || len > max_len)
        throw Error(path + ": truncated or corrupt at token " + std::to_string(i) + " of " +
                    std::to_string(vocab) + " (does the tokenizer match the model's vocabulary?)");
      std::string s(size_t(len), '\0');
      if (!f.read(s.data(), len)) throw Error(path + ": truncated at token " + std::to_string(i));
      scores_.push_back(score);
      ids_.emplace(s, i);  // first occurrence wins, like run.c's sorted lookup
      pieces_.push_back(std::move(s));
    }
    if (f.peek() != std::char_traits<char>::eof())
      throw Error(path + ": has more than the model's " + std::to_string(vocab) +
                  " tokens: tokenizer does not match the model");
  }

  int vocab_size() const override { return int(pieces_.size()); }
  int bos_id() const override { return 1; }
  std::string decode(int id) const override {
    if (id < 0 || id >= vocab_size())
      throw Error("token id " + std::to_string(id) + " out of range");
    return pieces_[size_t(id)];
  }

  std::vector<int> encode(std::string_view text, bool bos) const override {
    std::vector<int> seq;
    if (!text.empty()) seq.push_back(lookup(" "));
    for (size_t i = 0; i < text.size();) {
      size_t n = 1;  // a codepoint: a lead byte and up to 3 continuation bytes
      while (i + n < text.size() && n < 4 && (uint8_t(text[i + n]) & 0xC0) == 0x80) ++n;
      int id = lookup(text.substr(i, n));
      if (id >= 0) {
        seq.push_back(id);
      } else {
        for (size_t j = 0; j < n; ++j) seq.push_back(int(uint8_t(text[i + j])) + 3);
      }
      i += n;
    }
    merge(seq);
    if (bos) seq.insert(seq.begin(), bos_id());
    return seq;
  }

 private:
  int lookup(std::string_view s) const {
    auto it = ids_.find(std::string(s));
    return it == ids_.end() ? -1 : it->second;
  }

  void merge(std::vector<int>& seq) const {
    const int n = int(seq.size());
    if (n < 2) return;
    std::vector<int> tok(seq), prev(n), next(n);
    std::vector<char> alive(n, 1);
    for (int i = 0; i < n; ++i) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1;
    struct Cand {
      float score;
      int pos, left, right, merged;  // left/right: token ids when queued
    };
    auto worse = [](const Cand& a, const Cand& b) {
      return a.score != b.score ? a.score < b.score : a.pos > b.pos;
    };
    std::priority_queue<Cand, std::vector<Cand>, decltype(worse)> heap(worse);
    auto push = [&](int i) {
      const int j = next[i];
      if (i < 0 || j < 0) return;
      const int id = lookup(pieces_[size_t(tok[i])] + pieces_[size_t(tok[j])]);
      if (id >= 0) heap.push({scores_[size_t(id)], i, tok[i], tok[j], id});
    };
    for (int i = 0; i + 1 < n; ++i) push(i);
    while (!heap.empty()) {
      Cand c = heap.top();
      heap.pop();
      const int i = c.pos, j = next[i];
      if (!alive[i] || j < 0 || tok[i] != c.left || tok[j] != c.right) continue;  // stale
      tok[i] = c.merged;
      alive[j] = 0;
      next[i] = next[j];
      if (next[j] >= 0) prev[next[j]] = i;
      if (prev[i] >= 0) push(prev[i]);
      push(i);
    }
    seq.clear();
    for (int i = 0; i >= 0; i = next[i]) seq.push_back(tok[i]);
  }

  std::vector<std::string> pieces_;
  std::vector<float> scores_;
  std::unordered_map<std::string, int> ids_;
};

}  // namespace

std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path, int vocab_size) {
  return std::make_unique<Llama2cTokenizer>(path, vocab_size);
}

}  // namespace mrgptq
