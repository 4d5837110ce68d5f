# Generated from variants.toml by scripts/variants.py: do not edit.
# tvx-cpu-avx2: x86-64 CPUs with AVX2, no GPU.
# Its three stages are nix/variant.nix's: nix-build nix/variants/tvx-cpu-avx2.nix
import ../variant.nix {
  name = "tvx-cpu-avx2";
  description = "x86-64 CPUs with AVX2, no GPU";
  platform = "x86_64-linux";
  cudaArchitectures = [ ];
  cpuIsa = "avx2";
  cpuTiers = [ "avx2" ];
  baselineFlags = "-mavx2 -mfma -mbmi -mbmi2 -mf16c -mlzcnt -mpclmul -maes";
  cudaCapabilities = [ ];
  cudaForwardCompat = false;
}
