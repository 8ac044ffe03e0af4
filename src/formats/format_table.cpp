// The block formats in one table: everything that differs between MXFP4 and
// NVFP4 outside the scale rules is a field here.
#include <string>

#include "mrgptq/error.hpp"
#include "mrgptq/formats.hpp"

namespace mrgptq {
namespace {

constexpr FormatInfo kFormats[] = {
    // format        name     compressed-tensors name   group scale           global  default rule
    {Format::MXFP4, "mxfp4", "mxfp4-pack-quantized", 32, ScaleType::E8M0, false, ScaleRule::Round},
    {Format::NVFP4, "nvfp4", "nvfp4-pack-quantized", 16, ScaleType::E4M3, true, ScaleRule::Absmax},
};

constexpr struct {
  ScaleRule rule;
  const char* name;
  bool mx, nv;  // valid for MXFP4 / NVFP4
} kRules[] = {
    {ScaleRule::Floor, "floor", true, false}, {ScaleRule::Round, "round", true, false},
    {ScaleRule::Ceil, "ceil", true, false},   {ScaleRule::Absmax, "absmax", false, true},
    {ScaleRule::Mse, "mse", true, true},
};

}  // namespace

const FormatInfo& format_info(Format f) {
  return kFormats[f == Format::MXFP4 ? 0 : 1];
}

Format parse_format(std::string_view name) {
  for (const auto& f : kFormats)
    if (name == f.name) return f.format;
  throw Error("unknown format '" + std::string(name) + "' (expected mxfp4 or nvfp4)");
}

ScaleRule parse_scale_rule(std::string_view name) {
  for (const auto& r : kRules)
    if (name == r.name) return r.rule;
  throw Error("unknown scale rule '" + std::string(name) +
              "' (expected floor, round, ceil or mse for mxfp4; absmax or mse for nvfp4)");
}

const char* to_string(Format f) {
  return format_info(f).name;
}

const char* to_string(ScaleRule rule) {
  for (const auto& r : kRules)
    if (r.rule == rule) return r.name;
  return "?";
}

bool rule_valid_for(Format f, ScaleRule rule) {
  for (const auto& r : kRules)
    if (r.rule == rule) return f == Format::MXFP4 ? r.mx : r.nv;
  return false;
}

}  // namespace mrgptq
