# Generated from variants.toml by scripts/variants.py: do not edit.
# tvx-cuda13_0-sm90-avx512: H100, H200 (Hopper).
# Its three stages are nix/variant.nix's: nix-build nix/variants/tvx-cuda13_0-sm90-avx512.nix
import ../variant.nix {
  name = "tvx-cuda13_0-sm90-avx512";
  description = "H100, H200 (Hopper)";
  platform = "x86_64-linux";
  cudaArchitectures = [ "90-real" ];
  cpuIsa = "avx512";
  cpuTiers = [ "avx2" "avx512" ];
  baselineFlags = "-mavx2 -mfma -mbmi -mbmi2 -mf16c -mlzcnt -mpclmul -maes";
  minDriver = "580.65.06";
  cudaCapabilities = [ "9.0" ];
  cudaForwardCompat = false;
}
