// Tokenizers: llama2.c (against a literal transcription of run.c's quadratic
// merge loop), sentencepiece (known Llama-2 ids), Hugging Face byte-level BPE
// (a tiny tokenizer.json with hand-derived ids and pre-tokenizer splits).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "mrgptq/error.hpp"
#include "mrgptq/tokenizer.hpp"

using namespace mrgptq;
namespace fs = std::filesystem;

namespace {

const std::string kShared = MRGPTQ_SHARED_DIR;

struct Vocab {
  std::vector<std::string> pieces;
  std::vector<float> scores;
};

Vocab read_vocab(const std::string& path, int n) {
  std::ifstream f(path, std::ios::binary);
  int32_t max_len;
  f.read(reinterpret_cast<char*>(&max_len), 4);
  Vocab v;
  for (int i = 0; i < n; ++i) {
    float s;
    int32_t len;
    f.read(reinterpret_cast<char*>(&s), 4);
    f.read(reinterpret_cast<char*>(&len), 4);
    std::string p(size_t(len), '\0');
    f.read(p.data(), len);
    v.pieces.push_back(p);
    v.scores.push_back(s);
  }
  return v;
}

// run.c's encode(), transcribed: rescan for the best pair after every merge.
std::vector<int> runc_encode(const Vocab& v, const std::string& text) {
  auto lookup = [&](const std::string& s) {
    for (size_t i = 0; i < v.pieces.size(); ++i)
      if (v.pieces[i] == s) return int(i);
    return -1;
  };
  std::vector<int> t = {1};
  if (!text.empty()) t.push_back(lookup(" "));
  std::string buf;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((uint8_t(text[i]) & 0xC0) != 0x80) buf.clear();
    buf += text[i];
    if (i + 1 < text.size() && (uint8_t(text[i + 1]) & 0xC0) == 0x80 && buf.size() < 4) continue;
    const int id = lookup(buf);
    if (id >= 0) {
      t.push_back(id);
    } else {
      for (char c : buf) t.push_back(int(uint8_t(c)) + 3);
    }
    buf.clear();
  }
  while (true) {
    float best = -1e10f;
    int at = -1, best_id = -1;
    for (size_t i = 1; i + 1 < t.size(); ++i) {
      const int id = lookup(v.pieces[size_t(t[i])] + v.pieces[size_t(t[i + 1])]);
      if (id >= 0 && v.scores[size_t(id)] > best)
        best = v.scores[size_t(id)], at = int(i), best_id = id;
    }
    if (at < 0) break;
    t[size_t(at)] = best_id;
    t.erase(t.begin() + at + 1);
  }
  return t;
}

}  // namespace

TEST(Llama2cTokenizer, HeapMergesEqualRunCOnRealText) {
  const std::string path = kShared + "/models/stories260K/tokenizer.bin";
  auto tok = load_llama2c_tokenizer(path, 512);
  const Vocab v = read_vocab(path, 512);
  const std::string text = read_text_file(kShared + "/data/tinystories-eval.txt");
  std::mt19937 rng(1);
  std::uniform_int_distribution<size_t> start(0, text.size() - 400);
  for (int trial = 0; trial < 30; ++trial) {
    const std::string snippet = text.substr(start(rng), 300);
    ASSERT_EQ(tok->encode(snippet, true), runc_encode(v, snippet)) << snippet;
  }
  const std::string odd = "Tiny \xe2\x9c\x93 caf\xc3\xa9 \xf0\x9f\x98\x80!\n\n  x";
  EXPECT_EQ(tok->encode(odd, true), runc_encode(v, odd));
  EXPECT_EQ(tok->encode("", true), std::vector<int>{1});
}

TEST(Llama2cTokenizer, VocabularyMismatchIsAnError) {
  const std::string path = kShared + "/models/stories260K/tokenizer.bin";
  EXPECT_THROW(load_llama2c_tokenizer(path, 600), Error);  // file holds only 512
  try {
    load_llama2c_tokenizer(path, 400);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.bin"), std::string::npos);
  }
}

TEST(SentencePiece, KnownLlama2IdsAndRoundTrip) {
  auto tok = load_sentencepiece_tokenizer(kShared + "/tokenizers/llama2/tokenizer.model");
  EXPECT_EQ(tok->vocab_size(), 32000);
  EXPECT_EQ(tok->encode("Hello world", true), (std::vector<int>{1, 15043, 3186}));
  const std::string s = "Once upon a time, there was a little robot.";
  std::string back;
  for (int id : tok->encode(s, false)) back += tok->decode(id);
  // pieces spell spaces as U+2581
  EXPECT_NE(back.find("\xe2\x96\x81upon"), std::string::npos);
}

namespace {

std::string write_tokenizer_json(const fs::path& dir, const std::string& pre,
                                 const std::string& vocab, const std::string& merges) {
  fs::create_directories(dir);
  const fs::path p = dir / "tokenizer.json";
  std::ofstream(p)
      << R"({"model": {"type": "BPE", "vocab": )" << vocab << R"(, "merges": )" << merges
      << R"(}, "pre_tokenizer": )" << pre
      << R"(, "added_tokens": [{"id": 20, "content": "<|begin_of_text|>", "special": true}]})";
  return p.string();
}

}  // namespace

TEST(HfBpe, MergesByRankOnByteLevelPieces) {
  // "hello world" -> pre-tokens "hello", " world" (space is U+0120 "Ġ").
  // hello: h e l l o -(h e)-> he l l o -(l l)-> he ll o -(he ll)-> hell o -(hell o)-> hello
  // world: Ġ w o r l d -(Ġ w)-> Ġw o r l d -(o r)-> Ġw or l d -(Ġw or)-> Ġwor l d
  const std::string vocab =
      R"({"h":0,"e":1,"l":2,"o":3,"\u0120":4,"w":5,"r":6,"d":7,"he":8,"ll":9,"hell":10,"hello":11,)"
      R"("\u0120w":12,"or":13,"\u0120wor":14})";
  const std::string merges = R"(["h e","l l","he ll","hell o","\u0120 w","o r","\u0120w or"])";
  const auto path =
      write_tokenizer_json(fs::temp_directory_path() / "mrgptq_bpe1", "null", vocab, merges);
  auto tok = load_hf_tokenizer(path);
  EXPECT_EQ(tok->encode("hello world", false), (std::vector<int>{11, 14, 2, 7}));
  EXPECT_EQ(tok->encode("hello world", true), (std::vector<int>{20, 11, 14, 2, 7}));
  EXPECT_EQ(tok->encode("<|begin_of_text|>hello", false), (std::vector<int>{20, 11}));
}

TEST(HfBpe, Llama3PreTokenizerGroupsDigitsByThree) {
  // With the merge "3 4" ranked first, "12345" only avoids "34" if the
  // pre-tokenizer splits it as "123" | "45".
  const std::string vocab = R"({"1":0,"2":1,"3":2,"4":3,"5":4,"34":5,"12":6,"123":7,"45":8})";
  const std::string merges = R"(["3 4","1 2","12 3","4 5"])";
  const std::string pre =
      R"({"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\p{N}{1,3}"}}]})";
  auto tok = load_hf_tokenizer(
      write_tokenizer_json(fs::temp_directory_path() / "mrgptq_bpe2", pre, vocab, merges));
  EXPECT_EQ(tok->encode("12345", false), (std::vector<int>{7, 8}));
  // GPT-2 style (no {1,3}): digits form one pre-token and "3 4" wins.
  auto gpt2 = load_hf_tokenizer(
      write_tokenizer_json(fs::temp_directory_path() / "mrgptq_bpe3", "null", vocab, merges));
  EXPECT_EQ(gpt2->encode("12345", false), (std::vector<int>{6, 5, 4}));
}

TEST(HfBpe, ContractionsAndSpacesSplitAsTheRegex) {
  // Vocabulary of all 256 byte symbols plus merged pieces that would only
  // form across a wrong split.
  std::string vocab = "{";
  const auto b2u = [](int b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    static int extra = 0;
    (void)extra;
    int cp = b;
    if (!printable) {
      int k = 0;
      for (int x = 0; x < b; ++x)
        if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE)) ++k;
      cp = 256 + k;
    }
    return cp;
  };
  for (int b = 0; b < 256; ++b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s\"\\u%04x\":%d", b ? "," : "", b2u(b), b);
    vocab += buf;
  }
  vocab += R"(,"'s":256,"t'":257,"\u0120\u0120":258})";
  const std::string merges = R"(["' s","t '","\u0120 \u0120"])";
  auto tok = load_hf_tokenizer(
      write_tokenizer_json(fs::temp_directory_path() / "mrgptq_bpe4", "null", vocab, merges));
  // "it's": pre-tokens "it" | "'s"  -> "'s" merges; "t'" never forms across the split.
  EXPECT_EQ(tok->encode("it's", false), (std::vector<int>{'i', 't', 256}));
  // "a  b": "a" | " " | " b" (\s+(?!\S) leaves the last space to the word),
  // so the two spaces never meet in one pre-token and "ĠĠ" (258) never forms.
  EXPECT_EQ(tok->encode("a  b", false), (std::vector<int>{'a', ' ', ' ', 'b'}));
  EXPECT_EQ(tok->encode("a   ", false), (std::vector<int>{'a', 258, ' '}));
}
