# Generated from variants.toml by scripts/variants.py: do not edit.
# tvx-cuda13_0-sm100-avx512: B200 (Blackwell datacenter).
# Its three stages are nix/variant.nix's: nix-build nix/variants/tvx-cuda13_0-sm100-avx512.nix
import ../variant.nix {
  name = "tvx-cuda13_0-sm100-avx512";
  description = "B200 (Blackwell datacenter)";
  platform = "x86_64-linux";
  cudaArchitectures = [ "100-real" ];
  cpuIsa = "avx512";
  cpuTiers = [ "avx2" "avx512" ];
  baselineFlags = "-mavx2 -mfma -mbmi -mbmi2 -mf16c -mlzcnt -mpclmul -maes";
  minDriver = "580.65.06";
  cudaCapabilities = [ "10.0" ];
  cudaForwardCompat = false;
}
