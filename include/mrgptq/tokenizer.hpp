// Tokenizers: llama2.c tokenizer.bin, sentencepiece tokenizer.model and
// Hugging Face tokenizer.json (byte-level BPE), behind one interface.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mrgptq {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int> encode(std::string_view text, bool bos) const = 0;
  virtual std::string decode(int id) const = 0;
  virtual int vocab_size() const = 0;
  virtual int bos_id() const = 0;
};

// llama2.c's tokenizer.bin: encoding identical to run.c's encode().
std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path, int vocab_size);
// libsentencepiece model (tokenizer.model).
std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& path);
// Hugging Face tokenizer.json with a byte-level BPE model.
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& path);
// tokenizer.json, else tokenizer.model, else tokenizer.bin in `dir`; checks the
// vocabulary size against the model's (Error naming the file on mismatch).
std::unique_ptr<Tokenizer> load_tokenizer_from_dir(const std::string& dir, int model_vocab);

// Whole text file, Error naming it if missing or empty.
std::string read_text_file(const std::string& path);

}  // namespace mrgptq
