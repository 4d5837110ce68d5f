# A small stand-in for nixpkgs, enough to evaluate tvx's Nix expressions here (no network):
# the functions and packages nix/*.nix use, with nixpkgs' calling conventions (overlays as a
# fixed point, callPackage, mkDerivation with finalAttrs, override/overrideAttrs, Python
# package-set extensions). Packages are plain attribute sets with an outPath; nothing builds.
{
  system,
  config ? { },
  overlays ? [ ],
}:
let
  lib = rec {
    fix = f: let x = f x; in x;
    extends = overlay: f: final: let prev = f final; in prev // overlay final prev;
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: xs: if c then xs else [ ];
    optionalString = c: s: if c then s else "";
    concatStringsSep = builtins.concatStringsSep;
    cmakeFeature = k: v: "-D${k}:STRING=${v}";
    cmakeBool = k: v: "-D${k}:BOOL=${if v then "TRUE" else "FALSE"}";
    getDev = p: p.dev or p;
    getLib = p: p.lib or p;
    cleanSource = p: p;
    cleanSourceWith = { src, filter }: src;
    assertMsg = c: msg: if c then true else throw msg;
    versions.majorMinor = v: builtins.concatStringsSep "." (builtins.genList (builtins.elemAt (builtins.splitVersion v)) 2);
    genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    licenses.bsd3 = { spdxId = "BSD-3-Clause"; shortName = "bsd3"; };
  };
  leaf = name: { inherit name; pname = name; outPath = "/nix/store/stub-${name}"; };
  cudaSet = version: {
    cudaMajorMinorVersion = version;
    cuda_nvcc = leaf "cuda_nvcc-${version}";
    cuda_cudart = leaf "cuda_cudart-${version}";
    cuda_cccl = leaf "cuda_cccl-${version}" // { dev = leaf "cuda_cccl-${version}-dev"; };
    libnvjpeg = leaf "libnvjpeg-${version}" // { dev = leaf "libnvjpeg-${version}-dev"; lib = leaf "libnvjpeg-${version}-lib"; };
    backendStdenv = stdenv // { cudaBackend = version; };
  };
  mkDerivation =
    arg:
    let
      attrs = if builtins.isFunction arg then arg self else arg;
      # passthru is merged into the derivation, as nixpkgs does.
      self = attrs // (attrs.passthru or { }) // {
        finalPackage = self;
        outPath = "/nix/store/stub-${self.pname}";
        overrideAttrs = f: mkDerivation (attrs: (if builtins.isFunction arg then arg attrs else arg) // f self);
      };
    in
    self;
  stdenv = { inherit mkDerivation; cudaBackend = null; };
  # A package with .override (its function arguments) and .overrideAttrs, as callPackage gives.
  overridable =
    make: args:
    let
      drv = make args;
      withOverrides = d: d // {
        override = more: overridable make (args // more);
        overrideAttrs = f: withOverrides (d // f d);
      };
    in
    withOverrides drv;
  base = final: {
    inherit lib config system stdenv;
    callPackage =
      fn: args:
      let
        f = if builtins.isFunction fn then fn else import fn;
      in
      f (builtins.intersectAttrs (builtins.functionArgs f) final // args);
    runCommand = name: env: script: env // { inherit name script; };
    mkShell = attrs: attrs // { shell = true; };
    cudaPackages_12 = cudaSet "12.8";
    cudaPackages_13 = cudaSet "13.0";
    cudaPackages = final.cudaPackages_12; # nixpkgs 25.11's default
    magma-cuda-static = overridable (a: leaf "magma" // { cudaPackages = a.cudaPackages; }) {
      cudaPackages = final.cudaPackages;
    };
    pythonPackagesExtensions = [ ];
    python3Packages = lib.fix (
      builtins.foldl' (f: ext: lib.extends ext f) (py: {
        python = {
          sitePackages = "lib/python3.13/site-packages";
          withPackages = pick: leaf "python3-3.13-env" // { packages = map (p: p.pname) (pick py); };
        };
        # nixpkgs 25.11's torch: broken with CUDA other than 11 and 12; sm_110 not among its targets.
        torch = overridable (a: leaf "torch" // {
          version = "2.9.1";
          name = "python3.13-torch-2.9.1";
          gpuTargets = a.gpuTargets;
          meta.broken = !(builtins.elem (builtins.head (builtins.splitVersion a.cudaPackages.cudaMajorMinorVersion)) [ "11" "12" ]);
          patches = [ "nixpkgs-torch.patch" ];
          postPatch = "";
          preConfigure = "";
          cudaVersion = a.cudaPackages.cudaMajorMinorVersion;
          magma = a.effectiveMagma.cudaPackages.cudaMajorMinorVersion;
          dev = leaf "torch-dev";
          cxxdev = leaf "torch-cxxdev";
        }) { cudaPackages = final.cudaPackages; effectiveMagma = final.magma-cuda-static; gpuTargets = [ ]; };
        toPythonModule = d: d // { pythonModule = true; };
      }) final.pythonPackagesExtensions
    );
  }
  // lib.genAttrs [ "cmake" "ninja" "pkg-config" "libhwy" "libjpeg_turbo" "libpng" "zlib" "libdeflate" "libwebp" "giflib" "libavif"
    "cli11" "nlohmann_json" "gtest" ] leaf;
in
lib.fix (builtins.foldl' (f: overlay: lib.extends overlay f) base overlays)
