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

#include <ATen/Parallel.h>

namespace {

// The defect this guards: libtvx was compiled without OpenMP, so every at::parallel_for in
// it (to_tensor, normalize) ran on one thread.
TEST(Parallel, TvxKernelsUseEveryThread) {
  const int before = at::get_num_threads();
  at::set_num_threads(4);
  EXPECT_EQ(tvx::cpu_kernel_threads(), 4);
  at::set_num_threads(before);
}

}  // namespace
