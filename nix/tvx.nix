# Stage 3: tvx for one row of variants.toml (nix/variants/<variant>.nix passes the row).
#
# The row's CUDA architectures and CPU tier reach the build as CMake cache variables, the
# same ones as its CMake preset (scripts/variants.py writes both): CMAKE_CUDA_ARCHITECTURES,
# which tvx's CMake keeps after LibTorch's config (cmake/TvxTorch.cmake), and TVX_CPU_ISA,
# from which cmake/TvxSimd.cmake compiles the tiers' kernels and the baseline flags.
{
  lib,
  stdenv,
  config,
  runCommand,
  mkShell,
  gtest,
  cmake,
  ninja,
  pkg-config,
  python3Packages,
  cudaPackages,
  libhwy,
  libjpeg_turbo,
  libpng,
  zlib,
  libdeflate,
  libwebp,
  giflib,
  libavif,
  cli11,
  nlohmann_json,
  variant,
  # The checkout without what builds and set-up put in it (a venv with torch in it, above all).
  src ? lib.cleanSourceWith {
    src = lib.cleanSource ../.;
    filter =
      path: type:
      !(builtins.elem (baseNameOf path) [
        "build"
        ".venv"
        ".deps"
        ".test-images"
        ".bench-images"
        "result"
      ]);
  },
}:
let
  cuda = variant.cudaArchitectures != [ ];
  inherit (python3Packages) python torch;
  # The interpreter whose torch provides LibTorch (cmake/TvxTorch.cmake asks it for its path).
  pythonWithTorch = python.withPackages (ps: [ ps.torch ]);
  stdenv' = if cuda then cudaPackages.backendStdenv else stdenv;
  cmakeFlags = [
    (lib.cmakeFeature "TVX_VARIANT" variant.name)
    (lib.cmakeFeature "TVX_CPU_ISA" variant.cpuIsa)
    (lib.cmakeBool "TVX_CUDA" cuda)
    (lib.cmakeBool "TVX_BUILD_TESTS" false)
    (lib.cmakeFeature "TVX_PYTHON" "${pythonWithTorch}/bin/python")
  ]
  ++ lib.optionals cuda [
    (lib.cmakeFeature "CMAKE_CUDA_ARCHITECTURES" (lib.concatStringsSep ";" variant.cudaArchitectures))
    (lib.cmakeFeature "TVX_MIN_DRIVER" variant.minDriver)
    # nvJPEG has its own store path, which the CUDA toolkit's directories do not name.
    (lib.cmakeFeature "TVX_NVJPEG_INCLUDE" "${lib.getDev cudaPackages.libnvjpeg}/include")
    (lib.cmakeFeature "TVX_NVJPEG_LIBRARY" "${lib.getLib cudaPackages.libnvjpeg}/lib/libnvjpeg.so")
  ];
in
# The nixpkgs set must have been configured for this row's GPUs (nix/nixpkgs.nix does).
assert cuda == (config.cudaSupport or false);
python3Packages.toPythonModule (
  stdenv'.mkDerivation (finalAttrs: {
    pname = variant.name;
    version = "0.1.0"; # project(tvx VERSION ...) in CMakeLists.txt (tests/nix checks they agree)
    inherit src cmakeFlags;

    nativeBuildInputs = [
      cmake
      ninja
      pkg-config
      pythonWithTorch
    ]
    ++ lib.optionals cuda [ cudaPackages.cuda_nvcc ];

    buildInputs = [
      (lib.getDev torch)
      libhwy
      libjpeg_turbo
      libpng
      zlib
      libdeflate
      libwebp
      giflib
      libavif
      cli11
      nlohmann_json
    ]
    # nixpkgs' torch puts what CMake consumers of LibTorch need in its cxxdev output.
    ++ lib.optional (torch ? cxxdev) torch.cxxdev
    ++ lib.optionals cuda (
      with cudaPackages;
      [
        cuda_cudart
        cuda_cccl
        libnvjpeg
      ]
    );

    # torch itself, not only its headers: `import tvx` imports torch.
    propagatedBuildInputs = [ torch ];

    # All of NIX_BUILD_CORES: ninja's jobs, nvcc's compilations among them.
    enableParallelBuilding = true;

    # The Python package beside the library, as a wheel lays it out: tvx/ finds libtvx in
    # tvx/lib and the tvx program in tvx/bin (python/tvx/__init__.py).
    postInstall = ''
      pkg=$out/${python.sitePackages}/tvx
      mkdir -p $pkg/lib $pkg/bin
      cp -r ../python/tvx/. $pkg/
      ln -s $out/lib/libtvx.so $pkg/lib/libtvx.so
      ln -s $out/bin/tvx $pkg/bin/tvx
    '';

    passthru = {
      inherit variant pythonWithTorch;
      minDriver = variant.minDriver or null;
      # What stage 1 configured: the GPUs' capabilities, PTX of the newest, the CUDA set.
      nixpkgsCuda = {
        capabilities = config.cudaCapabilities or [ ];
        forwardCompat = config.cudaForwardCompat or false;
        version = if cuda then cudaPackages.cudaMajorMinorVersion else null;
      };
      # `tvx verify`: the runtime check of a build. A CUDA variant's needs a GPU in the
      # sandbox, which Nix grants to builds that require the "cuda" system feature.
      tests.verify =
        runCommand "${variant.name}-verify"
          { requiredSystemFeatures = lib.optionals cuda [ "cuda" ]; }
          ''
            ${finalAttrs.finalPackage}/bin/tvx verify
            touch $out
          '';
      # `nix develop`: this build's inputs, GoogleTest, and the interpreter the presets use.
      devShell = mkShell {
        inputsFrom = [ finalAttrs.finalPackage ];
        packages = [ gtest ];
        TVX_PYTHON = "${pythonWithTorch}/bin/python";
      };
    };

    meta = {
      description = "TorchVision's native layer in C++20/CUDA: ${variant.description}";
      longDescription =
        "tvx built for ${variant.name}: CUDA architectures "
        + (if cuda then lib.concatStringsSep ", " variant.cudaArchitectures else "none (CPU only)")
        + ", CPU tiers ${lib.concatStringsSep ", " variant.cpuTiers}"
        + lib.optionalString cuda ". Needs an NVIDIA driver >= ${variant.minDriver}.";
      license = lib.licenses.bsd3;
      platforms = [ variant.platform ];
      mainProgram = "tvx";
    };
  })
)
