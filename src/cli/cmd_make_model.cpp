// PLACEHOLDER: verb not built yet (owned by the helper implementing it).
#include "cli/commands.hpp"
#include "mrgptq/error.hpp"

namespace mrgptq::cli {

void add_make_model(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand("make-model", "(not implemented yet)");
  sub->callback([&run] { run = [] () -> int { throw Error("make-model: not implemented yet"); }; });
}

}  // namespace mrgptq::cli
