# Generated from variants.toml by scripts/variants.py: do not edit.
# tvx-cuda13_0-sm120-avx512: RTX 5090, RTX 5080 (RTX 50 series).
# Its three stages are nix/variant.nix's: nix-build nix/variants/tvx-cuda13_0-sm120-avx512.nix
import ../variant.nix {
  name = "tvx-cuda13_0-sm120-avx512";
  description = "RTX 5090, RTX 5080 (RTX 50 series)";
  platform = "x86_64-linux";
  cudaArchitectures = [ "120-real" ];
  cpuIsa = "avx512";
  cpuTiers = [ "avx2" "avx512" ];
  baselineFlags = "-mavx2 -mfma -mbmi -mbmi2 -mf16c -mlzcnt -mpclmul -maes";
  minDriver = "580.65.06";
  cudaCapabilities = [ "12.0" ];
  cudaForwardCompat = false;
}
