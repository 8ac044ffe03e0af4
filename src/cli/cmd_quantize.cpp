// PLACEHOLDER: verb not built yet (owned by the helper implementing it).
#include "cli/commands.hpp"
#include "mrgptq/error.hpp"

namespace mrgptq::cli {

void add_quantize(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand("quantize", "(not implemented yet)");
  sub->callback([&run] { run = [] () -> int { throw Error("quantize: not implemented yet"); }; });
}

}  // namespace mrgptq::cli
