# One variant's three stages. nix/variants/<variant>.nix (generated from variants.toml by
# scripts/variants.py) calls this with its row; the result is a function of the stage options:
#   nix-build nix/variants/<variant>.nix                     tvx against nixpkgs' torch
#   nix-build nix/variants/<variant>.nix --arg torchFromSource true --arg torchSource '...'
row:
{
  # Stage 1: the pinned nixpkgs (flake.lock), configured for the row's GPUs; nixpkgsSrc
  # replaces the pin (the flake's input, the tests' stub).
  nixpkgsSrc ? null,
  # Stage 2, off by default: PyTorch built from source on CUDA 13 (nix/torch-cuda13.nix).
  torchFromSource ? false,
  torchSource ? null,
  pkgs ? import ./nixpkgs.nix {
    inherit nixpkgsSrc torchFromSource torchSource;
    system = row.platform;
    inherit (row) cudaCapabilities cudaForwardCompat;
  },
}:
# Stage 3: tvx with the row's CUDA architectures and CPU tier.
pkgs.callPackage ./tvx.nix { variant = row; }
