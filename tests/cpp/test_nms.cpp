// C++ API of nms/batched_nms: known answers, the greedy definition on random inputs,
// edge cases and errors. Parity with torchvision itself is in tests/python.
#include <tvx/core.h>
#include <tvx/ops.h>

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <limits>
#include <vector>

#include "contract.h"

namespace {

// The definition, written plainly: visit boxes by decreasing score (stable), keep one when
// no kept box of its class has IoU > threshold with it.
std::vector<std::int64_t> reference_nms(const at::Tensor& boxes, const at::Tensor& scores, double thr,
                                        const at::Tensor& idxs = {}) {
  const at::Tensor b = boxes.to(at::kDouble).contiguous();
  const at::Tensor order = std::get<1>(scores.sort(true, 0, true)).contiguous();
  const at::Tensor cls = idxs.defined() ? idxs.to(at::kLong).contiguous() : at::zeros({boxes.size(0)}, at::kLong);
  const auto B = b.accessor<double, 2>();
  const auto C = cls.accessor<std::int64_t, 1>();
  const auto O = order.accessor<std::int64_t, 1>();
  auto area = [&](std::int64_t i) { return (B[i][2] - B[i][0]) * (B[i][3] - B[i][1]); };
  std::vector<std::int64_t> keep;
  for (std::int64_t k = 0; k < O.size(0); ++k) {
    const std::int64_t i = O[k];
    bool removed = false;
    for (std::int64_t j : keep) {
      if (C[i] != C[j]) continue;
      const double w = std::max(0.0, std::min(B[i][2], B[j][2]) - std::max(B[i][0], B[j][0]));
      const double h = std::max(0.0, std::min(B[i][3], B[j][3]) - std::max(B[i][1], B[j][1]));
      const double inter = w * h;
      if (inter / (area(i) + area(j) - inter) > thr) removed = true;
    }
    if (!removed) keep.push_back(i);
  }
  return keep;
}

std::vector<std::int64_t> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.cpu().contiguous();
  return {c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel()};
}

at::Tensor random_boxes(std::int64_t n, double extent, double max_size, at::ScalarType dtype = at::kDouble) {
  const at::Tensor xy = at::rand({n, 2}, at::kDouble) * extent;
  const at::Tensor wh = at::rand({n, 2}, at::kDouble) * max_size;
  return at::cat({xy, xy + wh}, 1).to(dtype);
}

TEST(Nms, KnownAnswer) {
  const at::Tensor boxes = at::tensor({0., 0., 10., 10., 1., 1., 10., 10., 20., 20., 30., 30., 20., 20., 25., 25.}).view({4, 4});
  const at::Tensor scores = at::tensor({0.9, 0.95, 0.5, 0.6});
  EXPECT_EQ(to_vector(tvx::ops::nms(boxes, scores, 0.5)), (std::vector<std::int64_t>{1, 3, 2}));
  EXPECT_EQ(to_vector(tvx::ops::nms(boxes, scores, 0.2)), (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(to_vector(tvx::ops::nms(boxes, scores, 0.9)), (std::vector<std::int64_t>{1, 0, 3, 2}));
}

TEST(Nms, MatchesDefinitionOnRandomBoxes) {
  at::manual_seed(0);
  for (auto [n, extent, size] : {std::tuple{50, 100.0, 60.0}, {500, 1000.0, 100.0}, {2000, 1000.0, 400.0},
                                 {3000, 1000.0, 30.0}}) {
    for (double thr : {0.0, 0.3, 0.5, 0.8}) {
      const at::Tensor boxes = random_boxes(n, extent, size), scores = at::rand({n}, at::kDouble);
      EXPECT_EQ(to_vector(tvx::ops::nms(boxes, scores, thr)), reference_nms(boxes, scores, thr))
          << "n=" << n << " thr=" << thr;
    }
  }
}

TEST(Nms, MixedBoxSizesUseTheLargeBoxPath) {
  at::manual_seed(1);
  // A few boxes spanning most of the image among many small ones.
  const at::Tensor small = random_boxes(1500, 1000.0, 20.0), big = random_boxes(20, 100.0, 900.0);
  const at::Tensor boxes = at::cat({small, big}), scores = at::rand({1520}, at::kDouble);
  for (double thr : {0.0, 0.01, 0.5})
    EXPECT_EQ(to_vector(tvx::ops::nms(boxes, scores, thr)), reference_nms(boxes, scores, thr));
}

TEST(Nms, EqualScoresKeepIndexOrder) {
  const at::Tensor boxes = at::tensor({0., 0., 1., 1., 0., 0., 1., 1., 5., 5., 6., 6., 5., 5., 6., 6.}).view({4, 4});
  const at::Tensor scores = at::ones({4}, at::kDouble);
  EXPECT_EQ(to_vector(tvx::ops::nms(boxes, scores, 0.5)), (std::vector<std::int64_t>{0, 2}));
}

TEST(Nms, ZeroAreaAndInvertedBoxesSuppressNothing) {
  const at::Tensor boxes = at::tensor({0., 0., 0., 0., 0., 0., 0., 0., 2., 2., 1., 1., 0., 0., 4., 4.}).view({4, 4});
  const at::Tensor scores = at::tensor({0.4, 0.3, 0.2, 0.1});
  EXPECT_EQ(to_vector(tvx::ops::nms(boxes, scores, 0.0)), (std::vector<std::int64_t>{0, 1, 2, 3}));
}

TEST(Nms, NegativeThresholdSuppressesEveryMeasurableBox) {
  const at::Tensor boxes = at::tensor({0., 0., 1., 1., 5., 5., 6., 6., 9., 9., 10., 10.}).view({3, 4});
  const at::Tensor scores = at::tensor({0.1, 0.2, 0.3});
  EXPECT_EQ(to_vector(tvx::ops::nms(boxes, scores, -0.5)), (std::vector<std::int64_t>{2}));
}

TEST(Nms, NaN) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // NaN coordinates: the box takes part in no suppression.
  const at::Tensor boxes = at::tensor({0., 0., 10., 10., 0., 0., nan, 10., 0., 0., 10., 10.}).view({3, 4});
  EXPECT_EQ(to_vector(tvx::ops::nms(boxes, at::tensor({0.9, 0.8, 0.7}), 0.5)), (std::vector<std::int64_t>{0, 1}));
  // NaN scores sort first, as torch.sort puts them.
  const at::Tensor same = at::tensor({0., 0., 10., 10., 0., 0., 10., 10.}).view({2, 4});
  EXPECT_EQ(to_vector(tvx::ops::nms(same, at::tensor({0.9, nan}), 0.5)), (std::vector<std::int64_t>{1}));
  // A NaN threshold suppresses nothing.
  EXPECT_EQ(to_vector(tvx::ops::nms(same, at::tensor({0.9, 0.8}), nan)), (std::vector<std::int64_t>{0, 1}));
}

TEST(Nms, Single) {
  EXPECT_EQ(to_vector(tvx::ops::nms(at::tensor({1., 2., 3., 4.}).view({1, 4}), at::tensor({0.3}), 0.5)),
            (std::vector<std::int64_t>{0}));
}

TEST(Nms, HalfPrecisionIsComputedInFloat) {
  at::manual_seed(2);
  // Integer corners below 256 and scores k/256 are exact in float16 and bfloat16.
  const at::Tensor boxes = random_boxes(200, 200.0, 40.0).round();
  const at::Tensor scores = at::randperm(200, at::kDouble) / 256;
  const auto want = to_vector(tvx::ops::nms(boxes.to(at::kFloat), scores.to(at::kFloat), 0.5));
  EXPECT_EQ(want, reference_nms(boxes, scores, 0.5));
  EXPECT_EQ(to_vector(tvx::ops::nms(boxes.to(at::kHalf), scores.to(at::kHalf), 0.5)), want);
  EXPECT_EQ(to_vector(tvx::ops::nms(boxes.to(at::kBFloat16), scores.to(at::kBFloat16), 0.5)), want);
}

TEST(BatchedNms, CategoriesDoNotSuppressEachOther) {
  at::manual_seed(3);
  const at::Tensor boxes = random_boxes(1500, 500.0, 80.0), scores = at::rand({1500}, at::kDouble);
  const at::Tensor idxs = at::randint(0, 7, {1500}, at::kLong);
  const auto want = reference_nms(boxes, scores, 0.5, idxs);
  EXPECT_EQ(to_vector(tvx::ops::batched_nms(boxes, scores, idxs, 0.5)), want);
  // Categories may be any real dtype, as in torchvision: equal values, one category.
  EXPECT_EQ(to_vector(tvx::ops::batched_nms(boxes, scores, idxs.to(at::kDouble) * 0.5, 0.5)), want);
}

at::Tensor as_tensor(const std::vector<std::int64_t>& v) { return at::tensor(v, at::kLong); }

// Boxes jittered around a few objects, float64 (the reference computes in float64).
tvx::test::Inputs nms_inputs(std::int64_t n, std::uint64_t seed) {
  at::manual_seed(seed);
  const at::Tensor centres = at::rand({8, 2}, at::kDouble) * 400;
  const at::Tensor pick = at::randint(0, 8, {n}, at::kLong);
  const at::Tensor c = centres.index_select(0, pick) + at::randn({n, 2}, at::kDouble) * 6;
  const at::Tensor half = at::rand({n, 2}, at::kDouble) * 20 + 10;
  return {at::cat({c - half, c + half}, 1), at::rand({n}, at::kDouble), at::randint(0, 3, {n}, at::kLong)};
}

std::vector<tvx::test::BadInput> nms_bad(const char* op, bool batched) {
  auto with = [batched](at::Tensor b, at::Tensor s) {
    tvx::test::Inputs in{b, s};
    if (batched) in.push_back(at::zeros({b.size(0)}, at::kLong));
    return in;
  };
  const std::string o = op;
  std::vector<tvx::test::BadInput> bad{
      {"boxes [3, 5]", [=] { return with(at::rand({3, 5}), at::rand({3})); }, o + ": boxes must have shape [N, 4], got [3, 5]"},
      {"4 scores for 3 boxes", [=] { return with(at::rand({3, 4}), at::rand({4})); }, o + ": boxes and scores must have the same length"},
      {"scores [3, 1]", [=] { return with(at::rand({3, 4}), at::rand({3, 1})); }, o + ": scores must have shape [N], got [3, 1]"},
      {"int64 boxes", [=] { return with(at::randint(0, 9, {3, 4}), at::rand({3})); }, o + ": boxes must be float32, float64, float16 or bfloat16, got int64"},
      {"float32 boxes, float64 scores", [=] { return with(at::rand({3, 4}), at::rand({3}, at::kDouble)); }, o + ": boxes and scores must have the same dtype, got float32 and float64"},
  };
  if (batched)
    bad.push_back({"idxs [2] for 3 boxes", [] { return tvx::test::Inputs{at::rand({3, 4}), at::rand({3}), at::zeros({2}, at::kLong)}; },
                   o + ": idxs must have shape [3], got [2]"});
  return bad;
}

tvx::test::OpContract nms_contract() {
  tvx::test::OpContract c;
  c.name = "nms";
  c.make = nms_inputs;
  c.call = [](const tvx::test::Inputs& in) { return tvx::ops::nms(in[0], in[1], 0.5); };
  c.reference = [](const tvx::test::Inputs& in) { return as_tensor(reference_nms(in[0], in[1], 0.5)); };
  c.autocast_fp32 = true;
  c.bad = nms_bad("tvx.nms", false);
  return c;
}

tvx::test::OpContract batched_nms_contract() {
  tvx::test::OpContract c = nms_contract();
  c.name = "batched_nms";
  c.call = [](const tvx::test::Inputs& in) { return tvx::ops::batched_nms(in[0], in[1], in[2], 0.5); };
  c.reference = [](const tvx::test::Inputs& in) { return as_tensor(reference_nms(in[0], in[1], 0.5, in[2])); };
  c.bad = nms_bad("tvx.batched_nms", true);
  return c;
}

using tvx::test::Contract;
INSTANTIATE_TEST_SUITE_P(Nms, Contract, ::testing::ValuesIn(tvx::test::checks(nms_contract())), tvx::test::check_name);
INSTANTIATE_TEST_SUITE_P(BatchedNms, Contract, ::testing::ValuesIn(tvx::test::checks(batched_nms_contract())),
                         tvx::test::check_name);

// The CUDA mask grows as N^2/8 bytes: past the device's free memory the call must fail
// with the numbers before allocating, not in the allocator or after taking every byte.
// 1.5M boxes (a 281 GB mask) run in chunks: 1500 disjoint boxes, each repeated 1000 times
// with falling scores, so exactly each box's first copy is kept.
TEST(NmsCuda, MillionsOfBoxesRunInChunks) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const std::int64_t n = 1'500'000, distinct = 1500;
  const at::Tensor g = at::arange(n, at::kLong).remainder(distinct);
  const at::Tensor x = (g.remainder(50) * 10).to(at::kFloat), y = (g.div(50, "floor") * 10).to(at::kFloat);
  const at::Tensor boxes = at::stack({x, y, x + 5, y + 5}, 1).to(at::kCUDA);
  const at::Tensor scores = (1.0 - at::arange(n, at::kDouble) / n).to(at::kFloat).to(at::kCUDA);
  ASSERT_EQ(std::get<0>(at::_unique2(scores)).numel(), n) << "scores must be distinct for a known answer";
  const at::Tensor keep = tvx::ops::nms(boxes, scores, 0.5).cpu();
  EXPECT_TRUE(at::equal(keep, at::arange(distinct, at::kLong)));
}

TEST(Nms, HugeFloat64ExtentTakesTheQuadraticPath) {
  const double big = 1e308;
  const at::Tensor boxes = at::tensor({-big, 0., -big * 0.5, 1., big * 0.5, 0., big, 1., -big, 0., -big * 0.5, 1.}).view({3, 4});
  const at::Tensor scores = at::tensor({0.3, 0.2, 0.1});
  EXPECT_EQ(to_vector(tvx::ops::nms(boxes, scores, 0.5)), reference_nms(boxes, scores, 0.5));
}

}  // namespace

namespace {

TEST(Registration, SecondNamespaceCallsTheSameKernels) {
  tvx::register_operators("tvx_second");
  auto op = c10::Dispatcher::singleton()
                .findSchemaOrThrow("tvx_second::nms", "")
                .typed<at::Tensor(const at::Tensor&, const at::Tensor&, double)>();
  const at::Tensor boxes = random_boxes(300, 300.0, 60.0), scores = at::rand({300}, at::kDouble);
  EXPECT_TRUE(at::equal(op.call(boxes, scores, 0.5), tvx::ops::nms(boxes, scores, 0.5)));
  EXPECT_THROW(tvx::register_operators("tvx_second"), c10::Error);
  EXPECT_THROW(tvx::register_operators("tvx"), c10::Error);
}

}  // namespace
