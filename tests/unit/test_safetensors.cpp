// safetensors reader/writer: round trips, every corruption the reader must
// reject (with a message naming the file and the problem), and the bf16/f16
// conversions checked exhaustively against independent references.
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "mrgptq/error.hpp"
#include "mrgptq/safetensors.hpp"

namespace fs = std::filesystem;
using namespace mrgptq;

namespace {

// A fresh folder per test under the build tree.
fs::path temp_dir(const std::string& name) {
  fs::path d = fs::path(MRGPTQ_BINARY_DIR) / "test_tmp" /
               ("safetensors_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A raw safetensors image: u64 LE header length, the header text, then `data`.
std::vector<uint8_t> image(const std::string& header, const std::vector<uint8_t>& data = {}) {
  std::vector<uint8_t> out(8 + header.size() + data.size());
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(n >> (8 * i));
  if (!header.empty()) std::memcpy(out.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}

// Parses `bytes` expecting an Error whose message contains every fragment.
void expect_error(const std::vector<uint8_t>& bytes, std::vector<std::string> fragments) {
  try {
    SafetensorsReader r(bytes, "bad.safetensors");
    FAIL() << "no error; expected one mentioning " << fragments[0];
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("bad.safetensors: ", 0), 0u) << msg;  // names the file first
    for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
}

std::vector<uint8_t> bytes_of(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

}  // namespace

// ------------------------------------------------------------ round trips --

TEST(Safetensors, WriteThenReadBack) {
  const fs::path dir = temp_dir("roundtrip");
  const std::string path = (dir / "t.safetensors").string();
  const std::vector<float> w = {1.f, -2.5f, 3.25f, 0.f, 1e-3f, -7.f};
  const std::vector<float> b = {0.5f, 1.5f, -0.75f};
  SafetensorsWriter wr;
  wr.add_f32("layer.weight", {2, 3}, w.data());
  wr.add_bf16("layer.bias", {3}, b.data());
  wr.add("codes", DType::U8, {5}, {1, 2, 3, 250, 255});  // odd size: later data unaligned
  wr.add("scale", DType::F8_E4M3, {1, 2}, {0x38, 0x40});
  wr.add("empty", DType::F32, {0, 4}, {});
  wr.set_metadata("format", "mxfp4");
  wr.set_metadata("note", "a \"quoted\" value");
  wr.write(path);

  SafetensorsReader r(path);
  EXPECT_EQ(r.path(), path);
  ASSERT_EQ(r.tensors().size(), 5u);
  // Insertion order is kept.
  EXPECT_EQ(r.tensors()[0].name, "layer.weight");
  EXPECT_EQ(r.tensors()[4].name, "empty");
  EXPECT_EQ(r.metadata().at("format"), "mxfp4");
  EXPECT_EQ(r.metadata().at("note"), "a \"quoted\" value");

  const MatrixF m = r.matrix_f32("layer.weight");
  EXPECT_EQ(m.rows, 2);
  EXPECT_EQ(m.cols, 3);
  EXPECT_EQ(m.data, w);
  const auto& bias = r.at("layer.bias");
  EXPECT_EQ(bias.dtype, DType::BF16);
  EXPECT_EQ(r.to_f32(bias), b);  // exactly representable in bf16
  const auto& codes = r.at("codes");
  EXPECT_EQ(codes.nbytes, 5u);
  EXPECT_EQ(std::vector<uint8_t>(codes.data, codes.data + 5),
            (std::vector<uint8_t>{1, 2, 3, 250, 255}));
  EXPECT_EQ(r.at("scale").shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(r.at("empty").numel(), 0);
  EXPECT_EQ(r.find("nope"), nullptr);

  // Header length a multiple of 8, padded with spaces; the data area follows it.
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | raw[size_t(i)];
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(raw.size(), 8 + n + 24 + 6 + 5 + 2);
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
  fs::remove_all(dir);
}

TEST(Safetensors, ReaderAcceptsForeignPaddingAndOrder) {
  // Tensors listed out of data order, trailing spaces in the header, no metadata.
  const std::vector<float> a = {1, 2}, b = {3};
  std::vector<uint8_t> data = bytes_of(b);
  const auto ab = bytes_of(a);
  data.insert(data.end(), ab.begin(), ab.end());
  const auto img = image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},)"
                         R"("b":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}      )",
                         data);
  SafetensorsReader r(img, "mem");
  EXPECT_EQ(r.to_f32(r.at("a")), a);
  EXPECT_EQ(r.to_f32(r.at("b")), b);
  EXPECT_EQ(r.at("b").numel(), 1);  // a scalar
  EXPECT_TRUE(r.metadata().empty());
}

TEST(Safetensors, EmptyTensorsConvertToEmptyVectors) {
  // Found by the fuzzer: a zero-element F32 tensor passed a null pointer to
  // memcpy (undefined even for zero bytes).
  const std::vector<float> a = {5};
  const auto img = image(R"({"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                         R"("h":{"dtype":"F16","shape":[0,3],"data_offsets":[0,0]},)"
                         R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                         bytes_of(a));
  SafetensorsReader r(img, "mem");
  EXPECT_TRUE(r.to_f32(r.at("e")).empty());
  EXPECT_TRUE(r.to_f32(r.at("h")).empty());
  EXPECT_EQ(r.to_f32(r.at("a")), a);
}

TEST(Safetensors, ConvertsF16AndF64) {
  SafetensorsWriter wr;
  const std::vector<double> d = {1.0 / 3, -2.0, 1e-30};
  std::vector<uint8_t> db(d.size() * 8);
  std::memcpy(db.data(), d.data(), db.size());
  wr.add("d", DType::F64, {3}, db);
  const std::vector<uint16_t> h = {0x3C00, 0xC000, 0x0001, 0x7BFF};  // 1, -2, 2^-24, 65504
  std::vector<uint8_t> hb(8);
  std::memcpy(hb.data(), h.data(), 8);
  wr.add("h", DType::F16, {2, 2}, hb);
  wr.add("i", DType::I32, {1}, {0, 0, 0, 0});
  const fs::path dir = temp_dir("convert");
  const std::string path = (dir / "c.safetensors").string();
  wr.write(path);
  SafetensorsReader r(path);
  const auto df = r.to_f32(r.at("d"));
  EXPECT_EQ(df, (std::vector<float>{float(1.0 / 3), -2.f, float(1e-30)}));
  const auto hm = r.matrix_f32("h");
  EXPECT_EQ(hm.data, (std::vector<float>{1.f, -2.f, std::ldexp(1.f, -24), 65504.f}));
  try {
    r.to_f32(r.at("i"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'i' has dtype I32"), std::string::npos) << e.what();
  }
  try {
    r.matrix_f32("d");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rank 1"), std::string::npos) << e.what();
  }
  try {
    r.at("missing");
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path + ": no tensor named 'missing'"), std::string::npos) << m;
    EXPECT_NE(m.find("d, h, i"), std::string::npos) << m;  // lists what is there
  }
  fs::remove_all(dir);
}

TEST(Safetensors, WriterRejectsBadInputAndLeavesNoTempFile) {
  SafetensorsWriter wr;
  EXPECT_THROW(wr.add("x", DType::F32, {2, 2}, std::vector<uint8_t>(15)), Error);
  EXPECT_THROW(wr.add("x", DType::F32, {-1}, {}), Error);
  wr.add("x", DType::U8, {1}, {7});
  EXPECT_THROW(wr.add("x", DType::U8, {1}, {7}), Error);  // duplicate
  EXPECT_THROW(wr.add("__metadata__", DType::U8, {1}, {7}), Error);

  const fs::path dir = temp_dir("writer");
  // Into a folder that does not exist: error naming the path.
  const std::string bad = (dir / "no" / "such" / "f.safetensors").string();
  try {
    wr.write(bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  // Onto a path that is a folder: rename fails, the temporary file is removed.
  fs::create_directories(dir / "occupied");
  EXPECT_THROW(wr.write((dir / "occupied").string()), Error);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
  // Replacing an existing file works.
  const std::string ok = (dir / "ok.safetensors").string();
  std::ofstream(ok) << "old contents";
  wr.write(ok);
  EXPECT_EQ(SafetensorsReader(ok).tensors().size(), 1u);
  fs::remove_all(dir);
}

// ------------------------------------------------------------ corruptions --

TEST(SafetensorsCorrupt, ShorterThanEightBytes) {
  expect_error({}, {"shorter than the 8-byte header"});
  expect_error({1, 0, 0}, {"3 bytes", "shorter"});
}

TEST(SafetensorsCorrupt, HeaderLengthPastEnd) {
  auto img = image(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", {9});
  img[0] = 0xFF;  // claims a 255+ byte header
  img[1] = 0x7F;
  expect_error(img, {"header length", "past the end of the file"});
  // Huge lengths must not overflow the bounds check.
  for (int i = 0; i < 8; ++i) img[size_t(i)] = 0xFF;
  expect_error(img, {"past the end"});
}

TEST(SafetensorsCorrupt, HeaderNotJsonOrNotObject) {
  expect_error(image(R"({"a": {"dtype": "U8", )"), {"header is not valid JSON"});
  expect_error(image("\xff\xfe garbage"), {"not valid JSON"});
  expect_error(image("[1, 2, 3]"), {"header is not a JSON object"});
  expect_error(image(R"({"a": 5})"), {"tensor 'a'", "not a JSON object"});
  expect_error(image(R"({"__metadata__": {"k": 1}})"), {"__metadata__", "not a string"});
}

TEST(SafetensorsCorrupt, UnknownDtype) {
  expect_error(image(R"({"w":{"dtype":"F12","shape":[1],"data_offsets":[0,2]}})", {0, 0}),
               {"tensor 'w'", "unknown dtype 'F12'"});
  expect_error(image(R"({"w":{"shape":[1],"data_offsets":[0,2]}})", {0, 0}),
               {"tensor 'w'", "dtype"});
}

TEST(SafetensorsCorrupt, BadShapes) {
  expect_error(image(R"({"w":{"dtype":"U8","shape":[-2,3],"data_offsets":[0,0]}})"),
               {"tensor 'w'", "negative"});
  expect_error(image(R"({"w":{"dtype":"U8","shape":[1.5],"data_offsets":[0,0]}})"),
               {"tensor 'w'", "non-integer"});
  // numel overflows int64.
  expect_error(
      image(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})"),
      {"tensor 'w'", "too large"});
}

TEST(SafetensorsCorrupt, ShapeAndByteSizeDisagree) {
  expect_error(image(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})",
                     std::vector<uint8_t>(12)),
               {"tensor 'w'", "needs 16 bytes", "hold 12"});
}

TEST(SafetensorsCorrupt, OffsetsOutsideData) {
  expect_error(
      image(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})", std::vector<uint8_t>(4)),
      {"tensor 'w'", "outside the data area (4 bytes)"});
  expect_error(
      image(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[3,1]}})", std::vector<uint8_t>(4)),
      {"tensor 'w'", "begin after"});
  expect_error(image(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[-1,0]}})"),
               {"tensor 'w'", "data_offsets"});
  expect_error(image(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0]}})"),
               {"tensor 'w'", "data_offsets"});
}

TEST(SafetensorsCorrupt, OverlappingTensors) {
  expect_error(image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                     R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                     std::vector<uint8_t>(12)),
               {"'a' and 'b' overlap"});
  // Listed in the other order: found after sorting by offset.
  expect_error(image(R"({"b":{"dtype":"U8","shape":[3],"data_offsets":[5,8]},)"
                     R"("c":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                     R"("a":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                     std::vector<uint8_t>(8)),
               {"overlap"});
}

TEST(SafetensorsCorrupt, HostileNamesStayOnOneLine) {
  // A name with a newline (JSON "\n") is escaped in the message, which expect_error
  // checks is a single line.
  expect_error(image(R"({"a\nb":{"dtype":"X","shape":[1],"data_offsets":[0,1]}})", {0}),
               {"tensor 'a\\x0ab'", "unknown dtype"});
  const std::string long_name(5000, 'n');
  expect_error(image("{\"" + long_name + R"(":{"dtype":"X","shape":[],"data_offsets":[0,0]}})"),
               {"nnn...'", "unknown dtype"});
}

TEST(SafetensorsCorrupt, DuplicateNames) {
  expect_error(image(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                     R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                     std::vector<uint8_t>(2)),
               {"tensor 'a' appears twice"});
}

TEST(SafetensorsCorrupt, TruncatedFileOnDiskNamesThePath) {
  const fs::path dir = temp_dir("truncated");
  const std::string path = (dir / "model.safetensors").string();
  SafetensorsWriter wr;
  const std::vector<float> w(64, 1.f);
  wr.add_f32("w", {8, 8}, w.data());
  wr.write(path);
  fs::resize_file(path, fs::file_size(path) - 10);  // cut into the data
  try {
    SafetensorsReader r(path);
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind(path + ": ", 0), 0u) << m;
    EXPECT_NE(m.find("outside the data area"), std::string::npos) << m;
  }
  fs::resize_file(path, 20);  // cut into the header
  EXPECT_THROW(SafetensorsReader{path}, Error);
  try {
    SafetensorsReader r((dir / "absent.safetensors").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.safetensors: cannot open"), std::string::npos);
  }
  fs::remove_all(dir);
}

// ------------------------------------------------ bf16 / f16 conversions --

namespace {
float f16_ref(uint16_t h) {  // the compiler's _Float16 as an independent reference
  _Float16 x;
  std::memcpy(&x, &h, 2);
  return float(x);
}
uint16_t f16_ref_encode(float f) {
  const _Float16 x = static_cast<_Float16>(f);
  uint16_t h;
  std::memcpy(&h, &x, 2);
  return h;
}
bool same_bits_or_both_nan(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) ||
         std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
}
}  // namespace

TEST(Half, Bf16AllPatternsRoundTrip) {
  for (uint32_t b = 0; b < 65536; ++b) {
    const float f = bf16_to_f32(uint16_t(b));
    // Decoding is the top half of a float32.
    ASSERT_EQ(std::bit_cast<uint32_t>(f), b << 16);
    const uint16_t back = f32_to_bf16(f);
    if (std::isnan(f))
      ASSERT_TRUE(std::isnan(bf16_to_f32(back))) << b;
    else
      ASSERT_EQ(back, b);
  }
}

TEST(Half, Bf16RoundsToNearestEven) {
  // For every pair of neighbouring finite bf16 values, the float32 midpoint goes to
  // the one with an even mantissa, and anything off the midpoint to the nearer one.
  for (uint32_t b = 0; b < 0x7F7F; ++b) {
    const double lo = bf16_to_f32(uint16_t(b)), hi = bf16_to_f32(uint16_t(b + 1));
    const float mid = float((lo + hi) / 2);  // exact: bf16 has 8 significant bits
    ASSERT_EQ(double(mid), (lo + hi) / 2);
    const uint16_t even = (b & 1) ? uint16_t(b + 1) : uint16_t(b);
    ASSERT_EQ(f32_to_bf16(mid), even) << std::hex << b;
    ASSERT_EQ(f32_to_bf16(-mid), even | 0x8000) << std::hex << b;
    ASSERT_EQ(f32_to_bf16(std::nextafter(mid, 0.f)), b) << std::hex << b;
    ASSERT_EQ(f32_to_bf16(std::nextafter(mid, INFINITY)), b + 1) << std::hex << b;
  }
  // Past the largest finite bf16 by half an ulp or more: infinity (RNE overflow).
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7F80);
  EXPECT_EQ(f32_to_bf16(-INFINITY), 0xFF80);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  // A NaN whose payload lies only in the dropped bits stays NaN.
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::bit_cast<float>(0x7F800001u)))));
}

TEST(Half, F16AllPatternsDecodeAndRoundTrip) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = f16_to_f32(uint16_t(h));
    ASSERT_TRUE(same_bits_or_both_nan(f, f16_ref(uint16_t(h)))) << std::hex << h;
    const uint16_t back = f32_to_f16(f);
    if (std::isnan(f))
      ASSERT_TRUE(std::isnan(f16_to_f32(back))) << h;
    else
      ASSERT_EQ(back, h);
  }
}

TEST(Half, F16RoundsToNearestEven) {
  // Midpoints between all neighbouring finite halves (subnormals included), and
  // their float32 neighbours, against the compiler's conversion.
  for (uint32_t h = 0; h < 0x7BFF; ++h) {
    const double lo = f16_to_f32(uint16_t(h)), hi = f16_to_f32(uint16_t(h + 1));
    const float mid = float((lo + hi) / 2);
    for (float x : {mid, std::nextafter(mid, 0.f), std::nextafter(mid, INFINITY)}) {
      ASSERT_EQ(f32_to_f16(x), f16_ref_encode(x)) << x;
      ASSERT_EQ(f32_to_f16(-x), f16_ref_encode(-x)) << -x;
    }
    const uint16_t even = (h & 1) ? uint16_t(h + 1) : uint16_t(h);
    ASSERT_EQ(f32_to_f16(mid), even) << std::hex << h;
  }
  // A sweep over float32 bit patterns (every exponent, many mantissas).
  for (uint64_t u = 0; u < 0x100000000ull; u += 997) {
    const float x = std::bit_cast<float>(uint32_t(u));
    if (std::isnan(x)) {
      ASSERT_TRUE(std::isnan(f16_to_f32(f32_to_f16(x))));
      continue;
    }
    ASSERT_EQ(f32_to_f16(x), f16_ref_encode(x)) << std::hex << u;
  }
}
