# Generated from variants.toml by scripts/variants.py: do not edit.
# tvx-cuda13_0-all: Portable: Hopper and every Blackwell (SASS) plus sm_121 PTX, AVX2 baseline.
# Its three stages are nix/variant.nix's: nix-build nix/variants/tvx-cuda13_0-all.nix
import ../variant.nix {
  name = "tvx-cuda13_0-all";
  description = "Portable: Hopper and every Blackwell (SASS) plus sm_121 PTX, AVX2 baseline";
  platform = "x86_64-linux";
  cudaArchitectures = [ "90-real" "100-real" "110-real" "120-real" "121" ];
  cpuIsa = "avx2";
  cpuTiers = [ "avx2" ];
  baselineFlags = "-mavx2 -mfma -mbmi -mbmi2 -mf16c -mlzcnt -mpclmul -maes";
  minDriver = "580.65.06";
  cudaCapabilities = [ "9.0" "10.0" "12.0" "12.1" ];
  cudaForwardCompat = true;
}
