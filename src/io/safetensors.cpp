// safetensors reader (memory-mapped, validating) and atomic writer.
#include "mrgptq/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "mrgptq/error.hpp"

namespace mrgptq {

namespace {

// ordered_json keeps the header's order, so tensors() lists tensors as the file does.
using json = nlohmann::ordered_json;

struct DTypeInfo {
  DType type;
  const char* name;
  size_t size;
};

// The dtype names of the safetensors format.
constexpr DTypeInfo kDTypes[] = {
    {DType::BOOL, "BOOL", 1}, {DType::U8, "U8", 1},           {DType::I8, "I8", 1},
    {DType::I16, "I16", 2},   {DType::U16, "U16", 2},         {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I32, "I32", 4},         {DType::U32, "U32", 4},
    {DType::F32, "F32", 4},   {DType::F64, "F64", 8},         {DType::I64, "I64", 8},
    {DType::U64, "U64", 8},   {DType::F8_E4M3, "F8_E4M3", 1}, {DType::F8_E5M2, "F8_E5M2", 1},
};

const DTypeInfo& info(DType t) {
  for (const auto& d : kDTypes)
    if (d.type == t) return d;
  throw Error("invalid DType value " + std::to_string(int(t)));
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// Product of the dims, or nullopt-like -1 on int64 overflow.
int64_t checked_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n)) return -1;
  return n;
}

// A JSON number that must be a non-negative integer fitting int64.
bool as_index(const json& v, int64_t& out) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(std::numeric_limits<int64_t>::max())) return false;
    out = int64_t(u);
    return true;
  }
  if (v.is_number_integer()) {
    out = v.get<int64_t>();
    return out >= 0;
  }
  return false;
}

std::string errno_str() {
  return std::strerror(errno);
}

// A name from an untrusted header, made safe for a one-line message: control
// bytes escaped, very long names cut.
std::string printable(std::string_view s) {
  constexpr size_t kMax = 120;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  if (s.size() > kMax) out += "...";
  return out;
}

}  // namespace

size_t dtype_size(DType t) {
  return info(t).size;
}
const char* dtype_name(DType t) {
  return info(t).name;
}

DType parse_dtype(std::string_view s) {
  for (const auto& d : kDTypes)
    if (s == d.name) return d.type;
  throw Error("unknown dtype '" + printable(s) + "'");
}

int64_t TensorView::numel() const {
  return checked_numel(shape);
}

// ------------------------------------------------------------------ reader --

SafetensorsReader::SafetensorsReader(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open: " + errno_str());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string e = errno_str();
    ::close(fd);
    throw Error(path + ": cannot stat: " + e);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(path + ": not a regular file");
  }
  map_size_ = size_t(st.st_size);
  if (map_size_ > 0) {
    void* m = ::mmap(nullptr, map_size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      const std::string e = errno_str();
      ::close(fd);
      throw Error(path + ": cannot memory-map: " + e);
    }
    map_ = m;
  }
  ::close(fd);  // the mapping stays valid
  try {
    parse({static_cast<const uint8_t*>(map_), map_size_});
  } catch (...) {
    if (map_) ::munmap(map_, map_size_);
    map_ = nullptr;
    throw;
  }
}

SafetensorsReader::SafetensorsReader(std::span<const uint8_t> bytes, std::string where)
    : path_(std::move(where)), owned_(bytes.begin(), bytes.end()) {
  parse(owned_);
}

SafetensorsReader::~SafetensorsReader() {
  if (map_) ::munmap(map_, map_size_);
}

void SafetensorsReader::parse(std::span<const uint8_t> bytes) {
  const auto fail = [&](const std::string& what) { return Error(path_ + ": " + what); };
  if (bytes.size() < 8)
    throw fail("file is " + std::to_string(bytes.size()) +
               " bytes, shorter than the 8-byte header length: not a safetensors file");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = header_len << 8 | bytes[size_t(i)];  // little-endian
  if (header_len > bytes.size() - 8)
    throw fail("header length " + std::to_string(header_len) + " runs past the end of the file (" +
               std::to_string(bytes.size()) + " bytes): truncated or not a safetensors file");
  const auto* hdr = reinterpret_cast<const char*>(bytes.data() + 8);
  const std::span<const uint8_t> data = bytes.subspan(8 + header_len);

  // nlohmann::json keeps only the last of duplicate keys, so the top-level keys
  // are collected while parsing to catch a name given twice.
  std::set<std::string> seen;
  std::string duplicate;
  const json::parser_callback_t cb = [&](int depth, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::key && depth == 1 && parsed.is_string()) {
      const auto& k = parsed.get_ref<const std::string&>();
      if (!seen.insert(k).second && duplicate.empty()) duplicate = k;
    }
    return true;
  };
  json header;
  try {
    header = json::parse(hdr, hdr + header_len, cb, /*allow_exceptions=*/true);
  } catch (const json::exception& e) {
    throw fail(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw fail("header is not a JSON object");
  if (!duplicate.empty())
    throw fail("tensor '" + printable(duplicate) + "' appears twice in the header");

  tensors_.clear();
  metadata_.clear();
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      if (!v.is_object()) throw fail("__metadata__ is not a JSON object");
      for (const auto& [k, s] : v.items()) {
        if (!s.is_string())
          throw fail("__metadata__ value of '" + printable(k) + "' is not a string");
        metadata_[k] = s.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + printable(name) + "'";
    if (!v.is_object()) throw fail(where + ": entry is not a JSON object");
    const auto dt = v.find("dtype");
    const auto sh = v.find("shape");
    const auto off = v.find("data_offsets");
    if (dt == v.end() || !dt->is_string()) throw fail(where + ": missing or non-string dtype");
    if (sh == v.end() || !sh->is_array()) throw fail(where + ": missing or non-array shape");
    if (off == v.end() || !off->is_array() || off->size() != 2)
      throw fail(where + ": data_offsets is not an array [begin, end]");

    TensorView t;
    t.name = name;
    try {
      t.dtype = parse_dtype(dt->get_ref<const std::string&>());
    } catch (const Error& e) {
      throw fail(where + ": " + e.what());
    }
    for (const auto& d : *sh) {
      int64_t x = 0;
      if (!as_index(d, x))
        throw fail(where + ": shape " + sh->dump() + " has a negative or non-integer dimension");
      t.shape.push_back(x);
    }
    int64_t begin = 0, end = 0;
    if (!as_index((*off)[0], begin) || !as_index((*off)[1], end))
      throw fail(where + ": data_offsets " + off->dump() + " are not non-negative integers");
    if (begin > end) throw fail(where + ": data_offsets " + off->dump() + " begin after their end");
    if (uint64_t(end) > data.size())
      throw fail(where + ": data_offsets " + off->dump() + " lie outside the data area (" +
                 std::to_string(data.size()) + " bytes)");
    const int64_t numel = checked_numel(t.shape);
    int64_t expect = 0;
    if (numel < 0 || __builtin_mul_overflow(numel, int64_t(dtype_size(t.dtype)), &expect))
      throw fail(where + ": shape " + shape_str(t.shape) + " is too large");
    if (end - begin != expect)
      throw fail(where + ": shape " + shape_str(t.shape) + " of " + dtype_name(t.dtype) +
                 " needs " + std::to_string(expect) + " bytes but data_offsets " + off->dump() +
                 " hold " + std::to_string(end - begin));
    t.data = data.data() + begin;
    t.nbytes = size_t(end - begin);
    tensors_.push_back(std::move(t));
  }

  // Overlap check: sorted by begin, every tensor must start at or after the
  // previous one's end (empty tensors take no bytes and overlap nothing).
  std::vector<const TensorView*> order;
  for (const auto& t : tensors_)
    if (t.nbytes) order.push_back(&t);
  std::sort(order.begin(), order.end(),
            [](const TensorView* a, const TensorView* b) { return a->data < b->data; });
  for (size_t i = 1; i < order.size(); ++i)
    if (order[i]->data < order[i - 1]->data + order[i - 1]->nbytes)
      throw fail("tensors '" + printable(order[i - 1]->name) + "' and '" +
                 printable(order[i]->name) + "' overlap in the data area");
}

const TensorView* SafetensorsReader::find(std::string_view name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

const TensorView& SafetensorsReader::at(std::string_view name) const {
  if (const auto* t = find(name)) return *t;
  std::string msg = path_ + ": no tensor named '" + std::string(name) + "'";
  if (tensors_.empty()) throw Error(msg + " (the file holds no tensors)");
  msg += " (" + std::to_string(tensors_.size()) + " tensors, e.g. ";
  const size_t show = std::min<size_t>(tensors_.size(), 5);
  for (size_t i = 0; i < show; ++i) {
    if (i) msg += ", ";
    msg += tensors_[i].name;
  }
  throw Error(msg + (show < tensors_.size() ? ", ...)" : ")"));
}

std::vector<float> SafetensorsReader::to_f32(const TensorView& t) const {
  const size_t n = t.nbytes / dtype_size(t.dtype);
  std::vector<float> out(n);
  // memcpy per element: the data area gives no alignment guarantee.
  switch (t.dtype) {
    case DType::F32:
      // An empty tensor's vector has no storage (data() may be null), and
      // memcpy's pointers must be valid even for zero bytes.
      if (n) std::memcpy(out.data(), t.data, n * 4);
      break;
    case DType::F64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, t.data + 8 * i, 8);
        out[i] = float(d);
      }
      break;
    case DType::F16:
    case DType::BF16: {
      const bool bf = t.dtype == DType::BF16;
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, t.data + 2 * i, 2);
        out[i] = bf ? bf16_to_f32(h) : f16_to_f32(h);
      }
      break;
    }
    default:
      throw Error(path_ + ": tensor '" + t.name + "' has dtype " + dtype_name(t.dtype) +
                  ", expected F32, F16, BF16 or F64");
  }
  return out;
}

MatrixF SafetensorsReader::matrix_f32(std::string_view name) const {
  const TensorView& t = at(name);
  if (t.shape.size() != 2)
    throw Error(path_ + ": tensor '" + t.name + "' has rank " + std::to_string(t.shape.size()) +
                " (shape " + shape_str(t.shape) + "), expected a 2-D matrix");
  MatrixF m;
  m.rows = t.shape[0];
  m.cols = t.shape[1];
  m.data = to_f32(t);
  return m;
}

// ------------------------------------------------------------------ writer --

void SafetensorsWriter::add(std::string name, DType dtype, std::vector<int64_t> shape,
                            std::vector<uint8_t> bytes) {
  if (name.empty() || name == "__metadata__")
    throw Error("safetensors: invalid tensor name '" + name + "'");
  for (const auto& e : entries_)
    if (e.name == name) throw Error("safetensors: tensor '" + name + "' added twice");
  for (int64_t d : shape)
    if (d < 0) throw Error("safetensors: tensor '" + name + "' has a negative dimension");
  const int64_t numel = checked_numel(shape);
  if (numel < 0 || uint64_t(numel) * dtype_size(dtype) != bytes.size())
    throw Error("safetensors: tensor '" + name + "' of shape " + shape_str(shape) + " and dtype " +
                dtype_name(dtype) + " given " + std::to_string(bytes.size()) + " bytes");
  entries_.push_back({std::move(name), dtype, std::move(shape), std::move(bytes)});
}

void SafetensorsWriter::add_f32(std::string name, std::vector<int64_t> shape, const float* data) {
  const int64_t n = checked_numel(shape);
  std::vector<uint8_t> bytes(size_t(std::max<int64_t>(n, 0)) * 4);
  if (!bytes.empty()) std::memcpy(bytes.data(), data, bytes.size());
  add(std::move(name), DType::F32, std::move(shape), std::move(bytes));
}

void SafetensorsWriter::add_bf16(std::string name, std::vector<int64_t> shape, const float* data) {
  const int64_t n = std::max<int64_t>(checked_numel(shape), 0);
  std::vector<uint8_t> bytes(size_t(n) * 2);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t b = f32_to_bf16(data[i]);
    std::memcpy(bytes.data() + 2 * i, &b, 2);
  }
  add(std::move(name), DType::BF16, std::move(shape), std::move(bytes));
}

void SafetensorsWriter::set_metadata(std::string key, std::string value) {
  metadata_[std::move(key)] = std::move(value);
}

namespace {

// write(2) until everything is out (it may write less, or be interrupted).
bool write_all(int fd, const void* p, size_t n) {
  const auto* c = static_cast<const uint8_t*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    c += w;
    n -= size_t(w);
  }
  return true;
}

}  // namespace

void SafetensorsWriter::write(const std::string& path) const {
  // Header: __metadata__ first, then the tensors in insertion order, data packed
  // back to back in the same order.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  uint64_t offset = 0;
  for (const auto& e : entries_) {
    header[e.name] = {{"dtype", dtype_name(e.dtype)},
                      {"shape", e.shape},
                      {"data_offsets", {offset, offset + e.bytes.size()}}};
    offset += e.bytes.size();
  }
  std::string text = header.dump();
  // The format allows trailing spaces; padding to 8 bytes keeps the data area
  // 8-byte aligned in a memory map (what the reference implementation does too).
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(text.size()) >> (8 * i));

  // Atomic: write a temporary file in the same folder (so rename stays on one
  // file system), fsync it, then rename over the target.
  const std::filesystem::path target(path);
  const std::filesystem::path dir =
      target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::string base = ".";  // built up with += (GCC 12 warns falsely on "lit" + string&&)
  base += target.filename().string();
  base += ".tmp.XXXXXX";
  std::string tmpl = (dir / base).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    throw Error(path + ": cannot create a temporary file in " + dir.string() + ": " + errno_str());
  bool ok =
      ::fchmod(fd, 0644) == 0 && write_all(fd, len, 8) && write_all(fd, text.data(), text.size());
  for (const auto& e : entries_) ok = ok && write_all(fd, e.bytes.data(), e.bytes.size());
  ok = ok && ::fsync(fd) == 0;
  const std::string err = ok ? "" : errno_str();
  if (::close(fd) != 0 && ok) ok = false;
  if (!ok || ::rename(tmpl.c_str(), path.c_str()) != 0) {
    const std::string e = err.empty() ? errno_str() : err;
    ::unlink(tmpl.c_str());
    throw Error(path + ": cannot write: " + e);
  }
  // Persist the rename itself (best effort: some file systems refuse fsync on a folder).
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace mrgptq
