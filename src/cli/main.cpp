// The tvx program.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tvx: TorchVision's native layer in C++20/CUDA"};
  app.require_subcommand(1);
  bool json = false;
  auto* info = app.add_subcommand("info", "Versions, GPUs, compiled CUDA architectures and CPU features");
  info->add_flag("--json", json, "Print one JSON object instead of text");
  app.add_subcommand("verify", "Check that this build works on this machine (exit 1 on any failure)");
  CLI11_PARSE(app, argc, argv);
  try {
    if (*info) return tvx::cli::info(json);
    return tvx::cli::verify();
  } catch (const std::exception& e) {
    std::cerr << "tvx: " << e.what() << "\n";
    return 2;
  }
}
