# Stage 1: nixpkgs, pinned, configured for one variant's GPUs.
#
# The pin is flake.lock's nixpkgs node (a revision of nixos-25.11 and its NAR hash), so that
# `nix-build nix/variants/<variant>.nix` and `nix build .#<variant>` build from the same tree.
# CUDA comes from cudaPackages_13 (CUDA 13.0), for every package of the set: the overlay
# below makes it the default `cudaPackages`.
{
  system,
  # nixpkgs' spelling of the variant's GPUs ("12.0", ...); [ ] for a CPU-only variant. nixpkgs
  # cannot target a Jetson capability (Thor's 11.0) together with others, or from x86_64, so
  # such rows leave it out here and keep it in their CMAKE_CUDA_ARCHITECTURES.
  cudaCapabilities,
  # PTX of the newest capability as well (a variant architecture without "-real").
  cudaForwardCompat ? false,
  # A nixpkgs tree to use instead of the pin: the flake's input, or the tests' stub.
  nixpkgsSrc ? null,
  # Stage 2 (nix/torch-cuda13.nix): PyTorch built from source; torchSource is its source
  # tarball (a fetchurl with the release's hash), which stage 2 needs.
  torchFromSource ? false,
  torchSource ? null,
}:
let
  pin = (builtins.fromJSON (builtins.readFile ../flake.lock)).nodes.nixpkgs.locked;
  src =
    if nixpkgsSrc != null then
      nixpkgsSrc
    else
      builtins.fetchTarball {
        url = "https://github.com/${pin.owner}/${pin.repo}/archive/${pin.rev}.tar.gz";
        sha256 = pin.narHash;
      };
  cudaSupport = cudaCapabilities != [ ];
in
import src {
  inherit system;
  config = {
    allowUnfree = true; # the CUDA toolkit's licence
    inherit cudaSupport cudaCapabilities cudaForwardCompat;
  };
  overlays = [
    (final: prev: {
      cudaPackages = final.cudaPackages_13;
      pythonPackagesExtensions = prev.pythonPackagesExtensions ++ [
        (pyFinal: pyPrev: {
          torch =
            (pyPrev.torch.override (
              # The row's GPUs, also where nixpkgs' torch does not list them (sm_110).
              if cudaSupport then { gpuTargets = cudaCapabilities; } else { }
            )).overrideAttrs
              (old: {
                # nixpkgs 25.11 marks its torch (2.9) broken with a CUDA other than 11 or 12;
                # PyTorch 2.9 supports CUDA 13.0 (it ships cu130 builds).
                meta = old.meta // { broken = false; };
              });
        })
      ];
    })
  ]
  ++ (if torchFromSource then [ (import ./torch-cuda13.nix { source = torchSource; }) ] else [ ]);
}
