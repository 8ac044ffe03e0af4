// PLACEHOLDER: verb not built yet (owned by the helper implementing it).
#include "cli/commands.hpp"
#include "mrgptq/error.hpp"

namespace mrgptq::cli {

void add_demo(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand("demo", "(not implemented yet)");
  sub->callback([&run] { run = [] () -> int { throw Error("demo: not implemented yet"); }; });
}

}  // namespace mrgptq::cli
