# Generated from variants.toml by scripts/variants.py: do not edit.
# tvx-cuda13_0-sm110-armv8_2: NVIDIA DRIVE Thor / Jetson Thor, ARMv8.2 code.
# Its three stages are nix/variant.nix's: nix-build nix/variants/tvx-cuda13_0-sm110-armv8_2.nix
import ../variant.nix {
  name = "tvx-cuda13_0-sm110-armv8_2";
  description = "NVIDIA DRIVE Thor / Jetson Thor, ARMv8.2 code";
  platform = "aarch64-linux";
  cudaArchitectures = [ "110-real" ];
  cpuIsa = "armv8_2";
  cpuTiers = [ "neon" "armv8_2" ];
  baselineFlags = "-march=armv8-a+crypto";
  minDriver = "580.65.06";
  cudaCapabilities = [ "11.0" ];
  cudaForwardCompat = false;
}
