// Private to the nms folder: argument checks shared by every backend, and the IoU test
// both backends use (the same arithmetic as torchvision's kernels, so results agree).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/macros/Macros.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>

namespace tvx::ops::detail {

/// Checks boxes [N, 4], scores [N] (and idxs [N] for batched_nms): floating dtypes, one
/// device, equal lengths. `op` is the public name used in messages ("tvx.nms").
void check_nms_args(const char* op, const at::Tensor& boxes, const at::Tensor& scores,
                    const std::optional<at::Tensor>& idxs);

/// batched_nms categories as int64 labels on `device` (equal labels for equal idxs).
at::Tensor category_labels(const at::Tensor& idxs, const at::Device& device);

/// float32 for float16/bfloat16, else the input's dtype.
at::ScalarType nms_compute_dtype(at::ScalarType t);

/// Stable descending order of scores (NaN first, ties by index), as int64 on scores' device.
at::Tensor nms_order(const at::Tensor& scores);

/// An integer key whose ascending order is torch.sort(scores, stable=True, descending=True)'s
/// order of the scores (NaN first, then decreasing; -0.0 and +0.0 equal, so that ties stay in
/// index order under a stable sort). U: uint32 for float, uint64 for double. Key 0 is NaN's,
/// and all ones is no score's.
template <typename S, typename U>
C10_HOST_DEVICE inline U order_key(S v) {
  constexpr int kBits = sizeof(U) * 8;
  if (v != v) return 0;  // NaN first
  if (v == 0) v = 0;     // -0.0 equals +0.0
  U bits;
  memcpy(&bits, &v, sizeof(U));
  const U k = (bits >> (kBits - 1)) ? ~bits : (bits | (U(1) << (kBits - 1)));  // increasing in v
  return ~k;  // ascending order of ~k is descending order of v
}

/// a * b rounded on its own: never fused into a later addition (nvcc fuses by default),
/// so both devices compute the same IoU as torchvision's CPU kernel, bit for bit.
template <typename T>
C10_HOST_DEVICE inline T mul_rn(T a, T b) {
#ifdef __CUDA_ARCH__
  if constexpr (std::is_same_v<T, float>)
    return __fmul_rn(a, b);
  else
    return __dmul_rn(a, b);
#else
  return a * b;  // host code is compiled with -ffp-contract=off
#endif
}

/// Whether box b (lower score) is suppressed by kept box a: IoU(a, b) > threshold.
/// a[0..3] = x1, y1, x2, y2. Operand order matches torchvision, which matters only for NaN.
/// disjoint_below: the caller knows threshold >= 0, so that a zero intersection (IoU 0, -0
/// or NaN) is below it without the division.
template <typename T, typename Thr>
C10_HOST_DEVICE inline bool iou_above(const T* a, T area_a, const T* b, T area_b, Thr threshold,
                                      bool disjoint_below = false) {
#ifdef __CUDA_ARCH__
  using ::max;
  using ::min;
#else
  using std::max;
  using std::min;
#endif
  const T w = max(T(0), min(a[2], b[2]) - max(a[0], b[0]));
  const T h = max(T(0), min(a[3], b[3]) - max(a[1], b[1]));
  const T inter = mul_rn(w, h);
  if (disjoint_below && inter == T(0)) return false;
  return inter / (area_a + area_b - inter) > threshold;
}

template <typename T>
C10_HOST_DEVICE inline T box_area(const T* b) {
  return (b[2] - b[0]) * (b[3] - b[1]);
}

}  // namespace tvx::ops::detail
