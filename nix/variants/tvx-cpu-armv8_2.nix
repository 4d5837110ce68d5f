# Generated from variants.toml by scripts/variants.py: do not edit.
# tvx-cpu-armv8_2: ARMv8.2 CPUs (Graviton 2, Ampere Altra), no GPU.
# Its three stages are nix/variant.nix's: nix-build nix/variants/tvx-cpu-armv8_2.nix
import ../variant.nix {
  name = "tvx-cpu-armv8_2";
  description = "ARMv8.2 CPUs (Graviton 2, Ampere Altra), no GPU";
  platform = "aarch64-linux";
  cudaArchitectures = [ ];
  cpuIsa = "armv8_2";
  cpuTiers = [ "neon" "armv8_2" ];
  baselineFlags = "-march=armv8-a+crypto";
  cudaCapabilities = [ ];
  cudaForwardCompat = false;
}
