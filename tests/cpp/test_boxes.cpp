// C++ API of the box utilities: known answers on hand-computed boxes. Parity with
// torchvision (every function, dtype and device) is in tests/python/test_boxes.py.
#include <tvx/ops.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

namespace {

const at::Tensor a = at::tensor({0., 0., 10., 10., 5., 5., 15., 15.}, at::kDouble).view({2, 4});
const at::Tensor b = at::tensor({0., 0., 10., 10., 20., 20., 30., 40.}, at::kDouble).view({2, 4});

TEST(Boxes, AreaAndIou) {
  EXPECT_TRUE(at::equal(tvx::ops::box_area(b), at::tensor({100., 200.}, at::kDouble)));
  const at::Tensor iou = tvx::ops::box_iou(a, b);
  ASSERT_EQ(iou.sizes(), (at::IntArrayRef{2, 2}));
  EXPECT_DOUBLE_EQ(iou[0][0].item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(iou[1][0].item<double>(), 25.0 / 175.0);
  EXPECT_DOUBLE_EQ(iou[1][1].item<double>(), 0.0);
  // GIoU of disjoint boxes: 0 - (enclosing - union) / enclosing.
  EXPECT_DOUBLE_EQ(tvx::ops::generalized_box_iou(a, b)[0][1].item<double>(), -(1200.0 - 300.0) / 1200.0);
  // The same boxes in xywh give the same IoU.
  EXPECT_TRUE(at::allclose(tvx::ops::box_iou(tvx::ops::box_convert(a, "xyxy", "xywh"),
                                             tvx::ops::box_convert(b, "xyxy", "xywh"), "xywh"),
                           iou));
}

TEST(Boxes, DistanceIouPenalisesCentreDistance) {
  // Same size, centres 5 apart along x and y: DIoU = IoU - 50 / (15^2 + 15^2 + eps).
  const double diou = tvx::ops::distance_box_iou(a, a.flip(0))[0][0].item<double>();
  EXPECT_NEAR(diou, 25.0 / 175.0 - 50.0 / 450.0, 1e-9);
  EXPECT_NEAR(tvx::ops::complete_box_iou(a, a)[0][0].item<double>(), 1.0, 1e-9);
}

TEST(Boxes, LossesAndConversions) {
  const at::Tensor loss = tvx::ops::generalized_box_iou_loss(a, a, "sum");
  EXPECT_NEAR(loss.item<double>(), 0.0, 1e-6);
  EXPECT_TRUE(at::equal(tvx::ops::box_convert(a, "xyxy", "cxcywh"),
                        at::tensor({5., 5., 10., 10., 10., 10., 10., 10.}, at::kDouble).view({2, 4})));
  EXPECT_TRUE(at::equal(tvx::ops::clip_boxes_to_image(b, {25, 25}),
                        at::tensor({0., 0., 10., 10., 20., 20., 25., 25.}, at::kDouble).view({2, 4})));
  EXPECT_TRUE(at::equal(tvx::ops::remove_small_boxes(b, 10.0), at::tensor({0, 1}, at::kLong)));  // 10 x 10, 10 x 20
  EXPECT_EQ(tvx::ops::remove_small_boxes(b, 10.5).numel(), 0);
  at::Tensor masks = at::zeros({1, 6, 8}, at::kBool);
  masks[0][2][3] = true;
  masks[0][4][6] = true;
  EXPECT_TRUE(at::equal(tvx::ops::masks_to_boxes(masks), at::tensor({3.f, 2.f, 6.f, 4.f}).view({1, 4})));
  // Focal loss with gamma 0 and no weighting is the binary cross-entropy.
  const at::Tensor x = at::tensor({-2.0, 0.5, 3.0}, at::kDouble), t = at::tensor({0.0, 1.0, 1.0}, at::kDouble);
  EXPECT_TRUE(at::allclose(tvx::ops::sigmoid_focal_loss(x, t, -1, 0, "none"),
                           at::binary_cross_entropy_with_logits(x, t, {}, {}, at::Reduction::None)));
}

TEST(Boxes, ErrorsNameTheFunction) {
  try {
    tvx::ops::box_iou(a, b, "yxyx");
    FAIL() << "no error";
  } catch (const c10::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("tvx.box_iou: fmt must be 'xyxy', 'xywh' or 'cxcywh', got 'yxyx'"),
              std::string::npos);
  }
}

}  // namespace
