// Hugging Face tokenizer.json, byte-level BPE (GPT-2, Llama-3, Qwen2/3).
//
// encode = split out added (special) tokens, pre-tokenize each remaining span
// with the model's regex, map each piece's bytes to GPT-2's printable
// "byte-to-unicode" alphabet, then merge adjacent symbols by merge rank
// (lowest rank first) until no listed merge applies.
//
// The pre-tokenizer regexes are implemented by hand over codepoints, because
// std::regex has no \p{L} / \p{N}. Two families:
//   GPT-2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   Llama-3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//            ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   (Qwen2/3 use the Llama-3 form with \p{N} one digit at a time.)
// Letter/number classes come from the C library's Unicode tables (iswalpha /
// iswalnum under a UTF-8 locale), exact for ASCII.
#include <array>
#include <clocale>
#include <cwctype>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "mrgptq/error.hpp"
#include "mrgptq/tokenizer.hpp"

using json = nlohmann::json;

namespace mrgptq {
namespace {

// ------------------------------------------------------------- UTF-8 ------
std::vector<char32_t> decode_utf8(std::string_view s) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < s.size();) {
    const uint8_t c = uint8_t(s[i]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + size_t(n) > s.size()) n = 1;
    char32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (uint8_t(s[i + size_t(k)]) & 0x3F);
    out.push_back(cp);
    i += size_t(n);
  }
  return out;
}

void append_utf8(std::string& s, char32_t cp) {
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6)), s += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += char(0xE0 | (cp >> 12)), s += char(0x80 | ((cp >> 6) & 0x3F)),
        s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xF0 | (cp >> 18)), s += char(0x80 | ((cp >> 12) & 0x3F));
    s += char(0x80 | ((cp >> 6) & 0x3F)), s += char(0x80 | (cp & 0x3F));
  }
}

// ---------------------------------------------------- character classes ----
void ensure_utf8_locale() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!std::setlocale(LC_CTYPE, "C.UTF-8")) std::setlocale(LC_CTYPE, "en_US.UTF-8");
  });
}
bool is_letter(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  return std::iswalpha(wint_t(c));
}
bool is_number(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return std::iswalnum(wint_t(c)) && !std::iswalpha(wint_t(c));
}
bool is_space(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 9 && c <= 13);
  return std::iswspace(wint_t(c)) || c == 0x85 || c == 0xA0;
}
bool is_newline(char32_t c) {
  return c == '\r' || c == '\n';
}

// ---------------------------------------------------------- pre-tokenizer --
enum class PreTok { Gpt2, Llama3 };

size_t match_contraction(const std::vector<char32_t>& s, size_t i, bool ignore_case) {
  if (s[i] != '\'' || i + 1 >= s.size()) return 0;
  auto lc = [&](size_t k) { return ignore_case && s[k] < 0x80 ? char32_t(s[k] | 0x20) : s[k]; };
  const char32_t a = lc(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 < s.size()) {
    const char32_t b = lc(i + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  }
  return 0;
}

// Length of the whitespace alternatives: \s+(?!\S) leaves the last space for
// the next piece when a non-space follows; else \s+.
size_t match_spaces(const std::vector<char32_t>& s, size_t i) {
  size_t j = i;
  while (j < s.size() && is_space(s[j])) ++j;
  if (j < s.size() && j - i > 1) return j - i - 1;
  return j - i;
}

std::vector<std::pair<size_t, size_t>> pre_tokenize(const std::vector<char32_t>& s, PreTok kind,
                                                    int max_digits) {
  std::vector<std::pair<size_t, size_t>> out;  // [begin, end) in codepoints
  size_t i = 0;
  const size_t n = s.size();
  auto run = [&](size_t j, auto pred) {
    while (j < n && pred(s[j])) ++j;
    return j;
  };
  auto other = [](char32_t c) { return !is_space(c) && !is_letter(c) && !is_number(c); };
  while (i < n) {
    size_t len = 0;
    if (kind == PreTok::Gpt2) {
      if ((len = match_contraction(s, i, false))) {
      } else {
        const size_t k = s[i] == ' ' && i + 1 < n ? i + 1 : i;
        if (is_letter(s[k]))
          len = run(k, is_letter) - i;
        else if (is_number(s[k]))
          len = run(k, is_number) - i;
        else if (other(s[k]))
          len = run(k, other) - i;
        else
          len = match_spaces(s, i);
      }
    } else {
      if ((len = match_contraction(s, i, true))) {
      } else if (is_letter(s[i]) || (!is_newline(s[i]) && !is_letter(s[i]) && !is_number(s[i]) &&
                                     i + 1 < n && is_letter(s[i + 1]))) {
        len = run(is_letter(s[i]) ? i : i + 1, is_letter) - i;  // [^\r\n\pL\pN]?\pL+
      } else if (is_number(s[i])) {
        size_t j = i;
        while (j < n && j - i < size_t(max_digits) && is_number(s[j])) ++j;
        len = j - i;
      } else if (other(s[i]) || (s[i] == ' ' && i + 1 < n && other(s[i + 1]))) {
        size_t j = run(s[i] == ' ' ? i + 1 : i, other);  //  ?[^\s\pL\pN]+[\r\n]*
        len = run(j, is_newline) - i;
      } else {
        // \s*[\r\n]+ : whitespace up to and including the last newline of the run
        size_t j = i, last_nl = 0;
        bool nl = false;
        while (j < n && is_space(s[j])) {
          if (is_newline(s[j])) nl = true, last_nl = j;
          ++j;
        }
        len = nl ? run(last_nl, is_newline) - i : match_spaces(s, i);
      }
    }
    if (len == 0) len = 1;
    out.emplace_back(i, i + len);
    i += len;
  }
  return out;
}

// GPT-2's reversible map from bytes to printable codepoints.
std::array<char32_t, 256> byte_to_unicode() {
  std::array<char32_t, 256> m{};
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    m[size_t(b)] = printable ? char32_t(b) : char32_t(256 + extra++);
  }
  return m;
}

class HfBpeTokenizer final : public Tokenizer {
 public:
  explicit HfBpeTokenizer(const std::string& path) {
    ensure_utf8_locale();
    json j;
    try {
      j = json::parse(read_text_file(path));
    } catch (const json::exception& e) {
      throw Error(path + ": not valid JSON (" + e.what() + ")");
    }
    // Any malformed field (wrong JSON type included) is a one-line Error.
    try {
      if (!j.is_object() || !j.contains("model") || !j["model"].is_object() ||
          !j["model"].contains("type") || j["model"]["type"] != "BPE")
        throw Error(path + ": only byte-level BPE tokenizer.json models are supported");
      for (auto& [piece, id] : j["model"].at("vocab").items()) vocab_[piece] = id.get<int>();
      int rank = 0;
      for (const auto& m : j["model"].at("merges")) {
        std::string a, b;
        if (m.is_string()) {
          const std::string s = m.get<std::string>();
          const size_t sp = s.find(' ');
          if (sp == std::string::npos) throw Error(path + ": bad merge \"" + s + "\"");
          a = s.substr(0, sp), b = s.substr(sp + 1);
        } else {
          a = m.at(0).get<std::string>(), b = m.at(1).get<std::string>();
        }
        ranks_[a + '\x01' + b] = rank++;
      }
      if (j.contains("added_tokens"))
        for (const auto& t : j.at("added_tokens")) {
          const std::string content = t.at("content").get<std::string>();
          const int id = t.at("id").get<int>();
          if (content.empty()) throw Error(path + ": empty added token");
          added_.emplace_back(content, id);
          vocab_[content] = id;
        }
    } catch (const json::exception& e) {
      throw Error(path + ": malformed BPE model (" + e.what() + ")");
    }
    for (auto& [piece, id] : vocab_) {
      if (id < 0 || id > (1 << 24))
        throw Error(path + ": token id " + std::to_string(id) + " out of range");
      if (size_t(id) >= pieces_.size()) pieces_.resize(size_t(id) + 1);
      pieces_[size_t(id)] = piece;
    }
    for (const char* b : {"<|begin_of_text|>", "<s>"})
      if (vocab_.count(b)) {
        bos_ = vocab_[b];
        break;
      }
    const std::string pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"].dump() : "";
    if (pre.find("{1,3}") != std::string::npos)
      kind_ = PreTok::Llama3, digits_ = 3;
    else if (pre.find("(?i:") != std::string::npos)
      kind_ = PreTok::Llama3, digits_ = 1;
    b2u_ = byte_to_unicode();
  }

  int vocab_size() const override { return int(pieces_.size()); }
  int bos_id() const override { return bos_; }
  std::string decode(int id) const override {
    if (id < 0 || id >= vocab_size())
      throw Error("token id " + std::to_string(id) + " out of range");
    return pieces_[size_t(id)];
  }

  std::vector<int> encode(std::string_view text, bool bos) const override {
    std::vector<int> ids;
    if (bos && bos_ >= 0) ids.push_back(bos_);
    size_t i = 0;
    while (i < text.size()) {  // split out added tokens, longest match first
      size_t best = std::string_view::npos, best_len = 0;
      int best_id = -1;
      for (const auto& [content, id] : added_) {
        const size_t p = text.find(content, i);
        if (p != std::string_view::npos && (p < best || (p == best && content.size() > best_len)))
          best = p, best_len = content.size(), best_id = id;
      }
      const size_t end = best == std::string_view::npos ? text.size() : best;
      encode_span(text.substr(i, end - i), ids);
      if (best_id < 0) break;
      ids.push_back(best_id);
      i = best + best_len;
    }
    return ids;
  }

 private:
  void encode_span(std::string_view span, std::vector<int>& ids) const {
    const std::vector<char32_t> cps = decode_utf8(span);
    // Byte offsets of each codepoint, to cut the original bytes.
    std::vector<size_t> off(cps.size() + 1, 0);
    {
      size_t b = 0;
      for (size_t k = 0; k < cps.size(); ++k) {
        off[k] = b;
        std::string tmp;
        append_utf8(tmp, cps[k]);
        b += tmp.size();
      }
      off[cps.size()] = span.size();
    }
    for (auto [a, b] : pre_tokenize(cps, kind_, digits_))
      bpe(span.substr(off[a], off[b] - off[a]), ids);
  }

  void bpe(std::string_view bytes, std::vector<int>& ids) const {
    std::vector<std::string> sym;
    for (unsigned char c : bytes) {
      std::string s;
      append_utf8(s, b2u_[c]);
      sym.push_back(std::move(s));
    }
    while (sym.size() > 1) {  // merge the lowest-ranked adjacent pair
      int best = -1;
      size_t at = 0;
      for (size_t k = 0; k + 1 < sym.size(); ++k) {
        auto it = ranks_.find(sym[k] + '\x01' + sym[k + 1]);
        if (it != ranks_.end() && (best < 0 || it->second < best)) best = it->second, at = k;
      }
      if (best < 0) break;
      sym[at] += sym[at + 1];
      sym.erase(sym.begin() + long(at) + 1);
    }
    for (const auto& s : sym) {
      auto it = vocab_.find(s);
      if (it == vocab_.end()) throw Error("tokenizer.json: no token for piece \"" + s + "\"");
      ids.push_back(it->second);
    }
  }

  std::unordered_map<std::string, int> vocab_;
  std::unordered_map<std::string, int> ranks_;
  std::vector<std::pair<std::string, int>> added_;
  std::vector<std::string> pieces_;
  std::array<char32_t, 256> b2u_{};
  PreTok kind_ = PreTok::Gpt2;
  int digits_ = 0;
  int bos_ = -1;
};

}  // namespace

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path) {
  return std::make_unique<HfBpeTokenizer>(path);
}

}  // namespace mrgptq
