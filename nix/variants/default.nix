# Generated from variants.toml by scripts/variants.py: do not edit.
# Every shipped variant: its platform and its expression (flake.nix builds packages from it).
{
  "tvx-cuda13_0-sm120-avx512" = { platform = "x86_64-linux"; file = ./tvx-cuda13_0-sm120-avx512.nix; };
  "tvx-cuda13_0-sm120-avx2" = { platform = "x86_64-linux"; file = ./tvx-cuda13_0-sm120-avx2.nix; };
  "tvx-cuda13_0-sm110-armv8_2" = { platform = "aarch64-linux"; file = ./tvx-cuda13_0-sm110-armv8_2.nix; };
  "tvx-cuda13_0-sm110-armv9" = { platform = "aarch64-linux"; file = ./tvx-cuda13_0-sm110-armv9.nix; };
  "tvx-cuda13_0-sm121-armv8_2" = { platform = "aarch64-linux"; file = ./tvx-cuda13_0-sm121-armv8_2.nix; };
  "tvx-cuda13_0-sm121-armv9" = { platform = "aarch64-linux"; file = ./tvx-cuda13_0-sm121-armv9.nix; };
  "tvx-cuda13_0-sm90-avx512" = { platform = "x86_64-linux"; file = ./tvx-cuda13_0-sm90-avx512.nix; };
  "tvx-cuda13_0-sm100-avx512" = { platform = "x86_64-linux"; file = ./tvx-cuda13_0-sm100-avx512.nix; };
  "tvx-cpu-avx2" = { platform = "x86_64-linux"; file = ./tvx-cpu-avx2.nix; };
  "tvx-cpu-avx512" = { platform = "x86_64-linux"; file = ./tvx-cpu-avx512.nix; };
  "tvx-cpu-armv8_2" = { platform = "aarch64-linux"; file = ./tvx-cpu-armv8_2.nix; };
  "tvx-cpu-armv9" = { platform = "aarch64-linux"; file = ./tvx-cpu-armv9.nix; };
  "tvx-cuda13_0-all" = { platform = "x86_64-linux"; file = ./tvx-cuda13_0-all.nix; };
}
