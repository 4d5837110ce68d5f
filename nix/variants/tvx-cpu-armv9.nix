# Generated from variants.toml by scripts/variants.py: do not edit.
# tvx-cpu-armv9: ARMv9 CPUs with SVE2 (Graviton 4, Grace), no GPU.
# Its three stages are nix/variant.nix's: nix-build nix/variants/tvx-cpu-armv9.nix
import ../variant.nix {
  name = "tvx-cpu-armv9";
  description = "ARMv9 CPUs with SVE2 (Graviton 4, Grace), no GPU";
  platform = "aarch64-linux";
  cudaArchitectures = [ ];
  cpuIsa = "armv9";
  cpuTiers = [ "neon" "armv8_2" "armv9" ];
  baselineFlags = "-march=armv8-a+crypto";
  cudaCapabilities = [ ];
  cudaForwardCompat = false;
}
