// The tvx program: one CLI11 subcommand per command, each run by its callback.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace tvx::cli;
  CLI::App app{"tvx: TorchVision's native layer in C++20/CUDA"};
  app.require_subcommand(1);
  app.footer(
      "Exit codes:\n"
      "  0  the command ran (verify: every check passed)\n"
      "  1  verify: at least one check failed\n"
      "  2  bad arguments, or an error stopped the command");
  int code = kOk;
  bool info_json = false, verify_json = false;

  auto* info_cmd = app.add_subcommand("info", "Versions, GPUs, compiled CUDA architectures and CPU features");
  info_cmd->add_flag("--json", info_json, "Print one JSON object instead of text");
  info_cmd->callback([&] { code = info(info_json); });

  auto* verify_cmd = app.add_subcommand("verify", "Check that this build works on this machine (exit 1 on any failure)");
  verify_cmd->add_flag("--json", verify_json, "Print one JSON object (the checks and their results) instead of text");
  verify_cmd->callback([&] { code = verify(verify_json); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help or the parse error
    return rc == 0 ? kOk : kError;
  } catch (const std::exception& e) {
    std::cerr << "tvx: " << e.what() << "\n";
    return kError;
  }
  return code;
}
