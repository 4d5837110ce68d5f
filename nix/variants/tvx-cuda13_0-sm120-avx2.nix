# Generated from variants.toml by scripts/variants.py: do not edit.
# tvx-cuda13_0-sm120-avx2: RTX 50 series on AVX2-only hosts.
# Its three stages are nix/variant.nix's: nix-build nix/variants/tvx-cuda13_0-sm120-avx2.nix
import ../variant.nix {
  name = "tvx-cuda13_0-sm120-avx2";
  description = "RTX 50 series on AVX2-only hosts";
  platform = "x86_64-linux";
  cudaArchitectures = [ "120-real" ];
  cpuIsa = "avx2";
  cpuTiers = [ "avx2" ];
  baselineFlags = "-mavx2 -mfma -mbmi -mbmi2 -mf16c -mlzcnt -mpclmul -maes";
  minDriver = "580.65.06";
  cudaCapabilities = [ "12.0" ];
  cudaForwardCompat = false;
}
