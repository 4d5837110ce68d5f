# tvx for every row of variants.toml: packages.<system>.<variant>, built with stage 1 (the
# pinned nixpkgs in flake.lock, configured for the row's GPUs, CUDA 13) and stage 3 (tvx);
# stage 2 (PyTorch from source) is nix/torch-cuda13.nix, off by default.
#   nix build .#tvx-cuda13_0-sm120-avx512      nix develop
{
  description = "tvx: TorchVision's native layer in C++20/CUDA, one package per build variant";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      variants = import ./nix/variants;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      onSystem =
        system:
        builtins.listToAttrs (
          map (name: {
            inherit name;
            value = import variants.${name}.file { nixpkgsSrc = nixpkgs; };
          }) (builtins.filter (name: variants.${name}.platform == system) (builtins.attrNames variants))
        );
      # The development shell of each system: the build's dependencies (those of the GPU variant
      # most developers there have: Hopper on x86_64, DGX Spark on aarch64), GoogleTest and
      # Python with torch (nix/tvx.nix, passthru.devShell).
      devVariant = {
        x86_64-linux = "tvx-cuda13_0-sm90-avx512";
        aarch64-linux = "tvx-cuda13_0-sm121-armv9";
      };
      shell = system: (onSystem system).${devVariant.${system}}.devShell;
    in
    {
      packages = nixpkgs.lib.genAttrs systems onSystem;
      devShells = nixpkgs.lib.genAttrs systems (system: {
        default = shell system;
      });
      devShell = nixpkgs.lib.genAttrs systems shell;
    };
}
