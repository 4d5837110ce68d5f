# Generated from variants.toml by scripts/variants.py: do not edit.
# tvx-cuda13_0-sm121-armv9: DGX Spark (GB10), ARMv9 SVE2 code.
# Its three stages are nix/variant.nix's: nix-build nix/variants/tvx-cuda13_0-sm121-armv9.nix
import ../variant.nix {
  name = "tvx-cuda13_0-sm121-armv9";
  description = "DGX Spark (GB10), ARMv9 SVE2 code";
  platform = "aarch64-linux";
  cudaArchitectures = [ "121-real" ];
  cpuIsa = "armv9";
  cpuTiers = [ "neon" "armv8_2" "armv9" ];
  baselineFlags = "-march=armv8-a+crypto";
  minDriver = "580.65.06";
  cudaCapabilities = [ "12.1" ];
  cudaForwardCompat = false;
}
