#include <tvx/core.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace {

std::vector<tvx::CudaImage> images(std::initializer_list<tvx::CudaImage> l) { return l; }

TEST(Coverage, SassRunsOnSameMajorAndEqualOrHigherMinor) {
  const auto im = images({{90, false, 0}, {120, false, 0}});
  EXPECT_EQ(tvx::coverage(im, 9, 0), tvx::Coverage::sass);
  EXPECT_EQ(tvx::coverage(im, 12, 1), tvx::Coverage::sass);  // sm_120 SASS runs on sm_121
  EXPECT_EQ(tvx::coverage(im, 10, 0), tvx::Coverage::none);
  EXPECT_EQ(tvx::coverage(im, 8, 9), tvx::Coverage::none);
  EXPECT_EQ(tvx::coverage(images({{121, false, 0}}), 12, 0), tvx::Coverage::none);
}

TEST(Coverage, ArchSpecificSassOnlyOnItsOwnArch) {
  const auto im = images({{90, false, 'a'}});
  EXPECT_EQ(tvx::coverage(im, 9, 0), tvx::Coverage::sass);
  EXPECT_EQ(tvx::coverage(images({{100, false, 'a'}}), 10, 3), tvx::Coverage::none);
}

TEST(Coverage, PtxIsCompiledForNewerDevices) {
  const auto im = images({{90, false, 0}, {121, true, 0}});
  EXPECT_EQ(tvx::coverage(im, 12, 1), tvx::Coverage::ptx);
  EXPECT_EQ(tvx::coverage(im, 13, 0), tvx::Coverage::ptx);
  EXPECT_EQ(tvx::coverage(im, 12, 0), tvx::Coverage::none);
}

TEST(BuildInfo, CudaImagesReadBackMatchTheBuild) {
  std::vector<std::string> expected;
  std::stringstream s(TVX_EXPECTED_CUDA_ARCHS);
  for (std::string a; std::getline(s, a, ',');) {
    // CMake spellings: "90" (SASS + PTX), "90-real" (SASS), "90-virtual" (PTX).
    const auto dash = a.find('-');
    const std::string num = a.substr(0, dash), kind = dash == std::string::npos ? "" : a.substr(dash + 1);
    if (kind != "virtual") expected.push_back("sm_" + num);
    if (kind != "real") expected.push_back("compute_" + num);
  }
  std::vector<std::string> got;
  for (const auto& im : tvx::compiled_cuda_images()) got.push_back(im.name());
  std::sort(expected.begin(), expected.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, expected);
  EXPECT_EQ(tvx::built_with_cuda(), !expected.empty());
}

TEST(BuildInfo, VersionsAndCpu) {
  EXPECT_FALSE(tvx::version().empty());
  EXPECT_EQ(tvx::torch_version().rfind("2.11.0", 0), 0u) << tvx::torch_version();
  const auto cpu = tvx::cpu_features();
#if defined(__x86_64__)
  EXPECT_EQ(cpu.arch, "x86_64");
#endif
  EXPECT_EQ(tvx::cuda_version_string(13000), "13.0");
  EXPECT_EQ(tvx::cuda_version_string(12080), "12.8");
}

}  // namespace

#include <cmath>

#include "core/simd.h"

namespace {

TEST(Simd, EveryCompiledTierThisCpuRunsGivesTheSameResults) {
  const auto tiers = tvx::core::simd::compiled_tiers();
  ASSERT_FALSE(tiers.empty());
  const auto cpu = tvx::cpu_features().extensions;
  const auto info = tvx::simd_tiers();
  EXPECT_EQ(info.baseline, tiers.front().name);
  EXPECT_NE(std::find(info.compiled.begin(), info.compiled.end(), info.active), info.compiled.end());

  std::vector<std::uint8_t> bytes(1003);
  std::vector<float> x(1003);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>((i * 37) % 256);
    x[i] = static_cast<float>(i) * 0.37f - 100.0f;
  }
  int ran = 0;
  for (const auto& t : tiers) {
    const bool runs = std::all_of(t.requires_.begin(), t.requires_.end(), [&](const std::string& r) {
      return std::find(cpu.begin(), cpu.end(), r) != cpu.end();
    });
    if (!runs) continue;  // a tier above this CPU: dispatch never picks it
    ++ran;
    std::vector<float> out(bytes.size());
    t.kernels->u8_to_unit_float(bytes.data(), out.data(), std::int64_t(bytes.size()));
    for (std::size_t i = 0; i < bytes.size(); ++i) ASSERT_EQ(out[i], static_cast<float>(bytes[i]) / 255.0f) << t.name;
    t.kernels->normalize(x.data(), out.data(), std::int64_t(x.size()), 0.485f, 0.229f);
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(out[i], (x[i] - 0.485f) / 0.229f) << t.name;
    // The active tier is the highest that runs here.
    if (t.rank > tvx::core::simd::active_tier().rank) ADD_FAILURE() << t.name << " runs here but is not active";
  }
  EXPECT_GE(ran, 1);
}

}  // namespace
