// Library version string.
namespace mrgptq {
const char* version() { return "0.1.0"; }
}  // namespace mrgptq
