# Stage 2 (optional, off by default): PyTorch 2.10/2.11 built from source against CUDA 13.
#
# An overlay on the pinned nixpkgs (nix/nixpkgs.nix applies it when torchFromSource is true).
# It carries, once, the fixes that CUDA 13 needs and that the seed recipes copied into every
# variant's file:
#   1. MAGMA built against CUDA 13 (nixpkgs builds it against its default CUDA set);
#   2. the version string ("2.11.0", not setup.py's "2.11.0a0+git...");
#   3. the CCCL include layout: CUDA 13 moved thrust, cub and libcu++ under include/cccl;
#   4. a FindCUDAToolkit wrapper that defines the old CUDA_* variables parts of the build read;
#   5. Gloo's CUDA_VERSION hint, which its CMake no longer finds by itself;
#   6. nixpkgs' patches for its own torch version cleared: they do not apply to 2.10/2.11.
# nixpkgs' postPatch for its own version (2.9) is kept; a line of it that no longer applies to
# 2.10/2.11 fails the build and has to go here. This stage has been evaluated, never built.
#
# `source` is the release's source tarball with its submodules, which the caller fetches with
# its hash (this repository's machines cannot reach GitHub to record it):
#   fetchurl { url = "https://github.com/pytorch/pytorch/releases/download/v2.11.0/pytorch-v2.11.0.tar.gz"; hash = "..."; }
{
  source,
  version ? "2.11.0",
}:
final: prev:
let
  inherit (prev) lib;
  cudaPackages = final.cudaPackages_13;
  cccl = lib.getDev cudaPackages.cuda_cccl;
in
assert lib.assertMsg (source != null) "tvx stage 2: torchFromSource needs torchSource, the PyTorch ${version} source tarball";
assert lib.assertMsg (lib.versions.majorMinor version == "2.10" || lib.versions.majorMinor version == "2.11")
  "tvx stage 2 builds PyTorch 2.10 or 2.11, not ${version}";
{
  # 1. MAGMA against CUDA 13.
  magma-cuda-static = prev.magma-cuda-static.override { inherit cudaPackages; };

  pythonPackagesExtensions = prev.pythonPackagesExtensions ++ [
    (pyFinal: pyPrev: {
      torch =
        (pyPrev.torch.override {
          inherit cudaPackages;
          effectiveMagma = final.magma-cuda-static;
        }).overrideAttrs
          (old: {
            inherit version;
            name = builtins.replaceStrings [ old.version ] [ version ] old.name;
            src = source;
            # nixpkgs 25.11 marks torch broken with CUDA 13 (its check predates CUDA 13 support).
            meta = old.meta // { broken = false; };
            # 6. nixpkgs' patches target its own torch version.
            patches = [ ];
            # 2. The version string.
            PYTORCH_BUILD_VERSION = version;
            PYTORCH_BUILD_NUMBER = 0;
            postPatch = (old.postPatch or "") + ''
              # 4. CMake's FindCUDAToolkit, then the CUDA_* variables of the old FindCUDA.
              cp ${./torch/FindCUDAToolkit.cmake} cmake/Modules/FindCUDAToolkit.cmake
              # 5. Gloo reads CUDA_VERSION to pick its NCCL and architecture code.
              sed -i '1i set(CUDA_VERSION "${cudaPackages.cudaMajorMinorVersion}")' third_party/gloo/cmake/Cuda.cmake
            '';
            # 3. The host compiler finds thrust/cub/libcu++ where CUDA 13 put them. PyTorch's
            # setup.py hands CFLAGS to both C and C++ compilations.
            preConfigure = (old.preConfigure or "") + ''
              export CFLAGS="-I${cccl}/include/cccl ''${CFLAGS:-}"
              export CXXFLAGS="-I${cccl}/include/cccl ''${CXXFLAGS:-}"
            '';
            passthru = (old.passthru or { }) // {
              tvxStage2 = {
                inherit version;
                cudaVersion = cudaPackages.cudaMajorMinorVersion;
                magmaCudaVersion = final.magma-cuda-static.cudaPackages.cudaMajorMinorVersion;
              };
            };
          });
    })
  ];
}
