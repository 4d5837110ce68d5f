# Generated from variants.toml by scripts/variants.py: do not edit.
# tvx-cuda13_0-sm121-armv8_2: DGX Spark (GB10), ARMv8.2 code.
# Its three stages are nix/variant.nix's: nix-build nix/variants/tvx-cuda13_0-sm121-armv8_2.nix
import ../variant.nix {
  name = "tvx-cuda13_0-sm121-armv8_2";
  description = "DGX Spark (GB10), ARMv8.2 code";
  platform = "aarch64-linux";
  cudaArchitectures = [ "121-real" ];
  cpuIsa = "armv8_2";
  cpuTiers = [ "neon" "armv8_2" ];
  baselineFlags = "-march=armv8-a+crypto";
  minDriver = "580.65.06";
  cudaCapabilities = [ "12.1" ];
  cudaForwardCompat = false;
}
