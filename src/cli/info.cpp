#include <tvx/core.h>
#include <tvx/io.h>
#include <tvx/transforms.h>

#include <nlohmann/json.hpp>

#include <iostream>

#include "cli/commands.h"

namespace tvx::cli {

int info(bool as_json) {
  const auto images = compiled_cuda_images();
  const auto cuda = cuda_info();
  const auto cpu = cpu_features();

  nlohmann::json j;
  j["tvx_version"] = version();
  j["variant"] = variant();
  j["libtorch_version"] = torch_version();
  j["built_with_cuda"] = built_with_cuda();
  j["cuda_runtime"] = cuda_version_string(cuda.runtime_version);
  j["cuda_driver"] = cuda_version_string(cuda.driver_version);
  j["driver_release"] = cuda.driver_release;
  j["min_driver"] = min_driver();
  j["cudnn_version"] = cuda.cudnn_version;
  j["cuda_available"] = cuda.available;
  if (!cuda.error.empty()) j["cuda_error"] = cuda.error;
  j["compiled_cuda_archs"] = nlohmann::json::array();
  for (const auto& im : images) j["compiled_cuda_archs"].push_back(im.name());
  j["gpus"] = nlohmann::json::array();
  for (const auto& g : cuda.gpus) {
    const Coverage c = coverage(images, g.major, g.minor);
    j["gpus"].push_back({{"index", g.index},
                         {"name", g.name},
                         {"compute_capability", std::to_string(g.major) + "." + std::to_string(g.minor)},
                         {"multiprocessors", g.multiprocessors},
                         {"memory_bytes", g.memory_bytes},
                         {"coverage", to_string(c)}});
  }
  const auto tiers = simd_tiers();
  j["cpu"] = {{"arch", cpu.arch},
              {"extensions", cpu.extensions},
              {"isa", cpu_isa()},
              {"isa_flags", cpu_flags()},
              {"baseline_tier", tiers.baseline},
              {"simd_tiers_compiled", tiers.compiled},
              {"simd_tier_active", tiers.active},
              {"highway_target", tiers.highway_target},
              {"kernel_threads", cpu_kernel_threads()},
              {"warps", transforms::cpu_warp_path()}};

  j["codecs"] = nlohmann::json::object();
  for (const auto& c : io::codecs())
    j["codecs"][c.format] = c.library.empty() ? nlohmann::json(nullptr) : nlohmann::json(c.library);

  if (as_json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "tvx " << version() << " (variant " << variant() << ")\n"
            << "LibTorch      " << torch_version() << "\n"
            << "CUDA runtime  " << cuda_version_string(cuda.runtime_version) << "\n"
            << "CUDA driver   " << cuda_version_string(cuda.driver_version)
            << (cuda.driver_release.empty() ? "" : " (driver " + cuda.driver_release + ")")
            << (min_driver().empty() ? "" : ", variant needs driver >= " + min_driver()) << "\n"
            << "cuDNN         " << (cuda.cudnn_version ? std::to_string(cuda.cudnn_version) : "none") << "\n";
  std::cout << "CUDA archs    ";
  if (images.empty()) std::cout << (built_with_cuda() ? "none found in libtvx" : "none (CPU-only build)");
  for (std::size_t i = 0; i < images.size(); ++i) std::cout << (i ? " " : "") << images[i].name();
  std::cout << "\nGPUs          " << cuda.gpus.size();
  if (!cuda.available && !cuda.error.empty()) std::cout << " (" << cuda.error << ")";
  std::cout << "\n";
  for (const auto& g : cuda.gpus) {
    std::cout << "  [" << g.index << "] " << g.name << ", sm_" << g.major << g.minor << ", " << g.multiprocessors
              << " SMs, " << (g.memory_bytes >> 20) << " MiB: ";
    switch (coverage(images, g.major, g.minor)) {
      case Coverage::sass: std::cout << "covered (SASS)\n"; break;
      case Coverage::ptx: std::cout << "covered (PTX, compiled by the driver at load)\n"; break;
      case Coverage::none: std::cout << "no kernel image for sm_" << g.major << g.minor << " in this build\n"; break;
    }
  }
  std::cout << "CPU           " << cpu.arch << ":";
  for (const auto& e : cpu.extensions) std::cout << " " << e;
  std::cout << "\nCPU ISA       " << cpu_isa() << " (" << cpu_flags() << "), baseline " << tiers.baseline
            << "\nSIMD tiers    compiled:";
  for (const auto& t : tiers.compiled) std::cout << " " << t;
  std::cout << "; in use: " << tiers.active << " (Highway " << tiers.highway_target << ")\n"
            << "CPU threads   " << cpu_kernel_threads() << " (tvx's parallel loops)\n"
            << "CPU warps     " << transforms::cpu_warp_path() << " (checked against ATen here)\n"
            << "Codecs       ";
  for (const auto& c : io::codecs()) std::cout << " " << c.format << ": " << (c.library.empty() ? "no" : c.library) << ";";
  std::cout << "\n";
  return 0;
}

}  // namespace tvx::cli
