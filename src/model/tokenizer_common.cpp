#include <filesystem>
#include <fstream>
#include <sstream>

#include "mrgptq/error.hpp"
#include "mrgptq/tokenizer.hpp"

namespace fs = std::filesystem;

namespace mrgptq {

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  if (s.empty()) throw Error(path + ": file is empty");
  return s;
}

std::unique_ptr<Tokenizer> load_tokenizer_from_dir(const std::string& dir, int model_vocab) {
  const fs::path d(dir);
  std::unique_ptr<Tokenizer> tok;
  std::string which;
  if (fs::exists(d / "tokenizer.json")) {
    which = (d / "tokenizer.json").string();
    tok = load_hf_tokenizer(which);
  } else if (fs::exists(d / "tokenizer.model")) {
    which = (d / "tokenizer.model").string();
    tok = load_sentencepiece_tokenizer(which);
  } else if (fs::exists(d / "tokenizer.bin")) {
    which = (d / "tokenizer.bin").string();
    return load_llama2c_tokenizer(which, model_vocab);  // sized by the model; checks the match
  } else {
    throw Error(dir + ": no tokenizer (tokenizer.json, tokenizer.model or tokenizer.bin)");
  }
  // A model may pad its embedding table past the tokenizer; the reverse is an error.
  if (tok->vocab_size() > model_vocab)
    throw Error(which + ": tokenizer has " + std::to_string(tok->vocab_size()) +
                " tokens but the model's vocabulary is " + std::to_string(model_vocab));
  return tok;
}

}  // namespace mrgptq
