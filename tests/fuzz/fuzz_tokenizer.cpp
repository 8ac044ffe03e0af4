// fuzz-sources: src/model/tokenizer*.cpp
// fuzz-libs: sentencepiece
// libFuzzer target for the tokenizers. The first input byte picks a mode:
//   0: arbitrary bytes (invalid UTF-8 too) through the real stories260K
//      llama2.c tokenizer: ids must be in range and encoding must not crash;
//   1: the input as a tokenizer.json file for the byte-level BPE loader, then
//      an encode: it must load and encode, or throw mrgptq::Error;
//   2: arbitrary text through a fixed byte-level BPE tokenizer.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "mrgptq/error.hpp"
#include "mrgptq/tokenizer.hpp"

namespace {

std::string source_root() {
  std::string f = __FILE__;  // <root>/tests/fuzz/fuzz_tokenizer.cpp
  return f.substr(0, f.rfind("/tests/fuzz/"));
}

const mrgptq::Tokenizer& llama2c() {
  static auto t = mrgptq::load_llama2c_tokenizer(
      source_root() + "/../shared/models/stories260K/tokenizer.bin", 512);
  return *t;
}

std::string scratch(const char* name) {
  return "/tmp/mrgptq_fuzz_" + std::to_string(::getpid()) + "_" + name + ".json";
}

const mrgptq::Tokenizer& bpe() {
  static std::unique_ptr<mrgptq::Tokenizer> t = [] {
    const std::string p = scratch("fixed");
    std::ofstream(p)
        << R"({"model": {"type": "BPE", "vocab": {"a":0,"b":1,"ab":2,"\u0120":3,"\u0120a":4},)"
        << R"( "merges": ["a b", "\u0120 a"]}, "pre_tokenizer": null,)"
        << R"( "added_tokens": [{"id": 5, "content": "<s>", "special": true}]})";
    auto tok = mrgptq::load_hf_tokenizer(p);
    std::remove(p.c_str());
    return tok;
  }();
  return *t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    switch (data[0] % 3) {
      case 0: {
        for (int id : llama2c().encode(text, true))
          if (id < 0 || id >= 512) __builtin_trap();
        break;
      }
      case 1: {
        const std::string p = scratch("input");
        std::ofstream(p, std::ios::binary).write(text.data(), std::streamsize(text.size()));
        std::unique_ptr<mrgptq::Tokenizer> t;
        try {
          t = mrgptq::load_hf_tokenizer(p);
        } catch (...) {
          std::remove(p.c_str());
          throw;
        }
        std::remove(p.c_str());
        for (int id : t->encode("hello world 123 <s>", true))
          if (id < 0) __builtin_trap();
        break;
      }
      default:
        bpe().encode(text, true);  // unknown pieces throw mrgptq::Error
    }
  } catch (const mrgptq::Error&) {
  }
  return 0;
}
