# Generated from variants.toml by scripts/variants.py: do not edit.

set(TVX_TIERS_aarch64 neon armv8_2 armv9)
set(TVX_TIERS_x86_64 avx2 avx512)
set(TVX_TIER_avx2_FLAGS -mavx2 -mfma)
set(TVX_TIER_avx2_REQUIRES "avx2 fma")
set(TVX_TIER_avx512_FLAGS -mavx512f -mavx512dq -mavx512vl -mavx512bw -mfma)
set(TVX_TIER_avx512_REQUIRES "avx512f avx512dq avx512vl avx512bw fma")
set(TVX_TIER_neon_FLAGS -march=armv8-a)
set(TVX_TIER_neon_REQUIRES "asimd")
set(TVX_TIER_armv8_2_FLAGS -march=armv8.2-a+fp16+dotprod)
set(TVX_TIER_armv8_2_REQUIRES "asimd asimdhp asimddp")
set(TVX_TIER_armv9_FLAGS -march=armv9-a+sve+sve2)
set(TVX_TIER_armv9_REQUIRES "asimd sve sve2")
