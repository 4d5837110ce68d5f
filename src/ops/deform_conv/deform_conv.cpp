// deform_conv2d: schemas (torchvision 0.26's, character for character), argument checks, the
// driver every backend shares, and the C++ entry points.
//
// The driver takes the images in chunks whose columns stay within a budget, and per chunk:
// forward: im2col (the backend's), one batched matrix product over the weight groups, and
// the bias added as the result is put in [N, C_out, H, W] order. Backward: the columns'
// gradient (weight^T x grad), col2im (the backend's: input, offset and mask gradients), im2col
// again into the same buffer, and the weight's gradient (grad x columns^T).
#include "ops/deform_conv/deform_conv.h"

#include <tvx/ops.h>

#include <ATen/Context.h>
#include <ATen/ops/add.h>
#include <ATen/ops/bmm.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/sum.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/zeros_like.h>

#include <algorithm>

#include "core/check.h"
#include "core/op.h"
#include "core/registration.h"

namespace tvx::ops {
namespace deform_conv {

constexpr const char* kOp = "tvx.deform_conv2d";

namespace {



// Checks every argument as torchvision does (with messages that name them) and returns the
// call's geometry, batch = the whole batch.
Geometry check_args(const char* op, const at::Tensor& input, const at::Tensor& weight, const at::Tensor& offset,
                    const at::Tensor& mask, const at::Tensor& bias, std::int64_t stride_h, std::int64_t stride_w,
                    std::int64_t pad_h, std::int64_t pad_w, std::int64_t dilation_h, std::int64_t dilation_w,
                    std::int64_t groups, std::int64_t offset_groups, bool use_mask) {
  core::check_rank(op, {"input", input}, {4}, "[N, C, H, W]");
  core::check_rank(op, {"weight", weight}, {4}, "[C_out, C / groups, kernel_h, kernel_w]");
  core::check_rank(op, {"offset", offset}, {4}, "[N, offset_groups * kernel_h * kernel_w * 2, out_h, out_w]");
  if (use_mask) core::check_rank(op, {"mask", mask}, {4}, "[N, offset_groups * kernel_h * kernel_w, out_h, out_w]");
  core::check_rank(op, {"bias", bias}, {1}, "[C_out]");
  core::check_floating(op, {"input", input});
  core::check_same_dtype(op, {{"input", input}, {"weight", weight}, {"offset", offset}, {"bias", bias}});
  core::check_same_device(op, {{"input", input}, {"weight", weight}, {"offset", offset}, {"bias", bias}});
  if (use_mask) {
    core::check_same_dtype(op, {{"input", input}, {"mask", mask}});
    core::check_same_device(op, {{"input", input}, {"mask", mask}});
  }
  TORCH_CHECK(stride_h > 0 && stride_w > 0, op, ": stride must be positive, got (", stride_h, ", ", stride_w, ")");
  TORCH_CHECK(pad_h >= 0 && pad_w >= 0, op, ": padding must be >= 0, got (", pad_h, ", ", pad_w, ")");
  TORCH_CHECK(dilation_h > 0 && dilation_w > 0, op, ": dilation must be positive, got (", dilation_h, ", ",
              dilation_w, ")");
  TORCH_CHECK(groups > 0 && offset_groups > 0, op, ": groups and offset_groups must be positive, got ", groups,
              " and ", offset_groups);
  const std::int64_t n = input.size(0), c = input.size(1), c_out = weight.size(0);
  const std::int64_t kh = weight.size(2), kw = weight.size(3);
  TORCH_CHECK(kh > 0 && kw > 0, op, ": the kernel must not be empty, got weight of shape ", weight.sizes());
  TORCH_CHECK(weight.size(1) * groups == c, op, ": weight.shape[1] * groups must equal the input channels ", c,
              ", got ", weight.size(1), " * ", groups);
  TORCH_CHECK(c_out % groups == 0, op, ": weight.shape[0] (output channels) must be a multiple of groups = ", groups,
              ", got ", c_out);
  TORCH_CHECK(c % offset_groups == 0, op, ": input channels must be a multiple of offset_groups = ", offset_groups,
              ", got ", c);
  TORCH_CHECK(bias.size(0) == c_out, op, ": bias must have shape [", c_out, "], got ", bias.sizes());
  const std::int64_t out_h = (input.size(2) + 2 * pad_h - (dilation_h * (kh - 1) + 1)) / stride_h + 1;
  const std::int64_t out_w = (input.size(3) + 2 * pad_w - (dilation_w * (kw - 1) + 1)) / stride_w + 1;
  TORCH_CHECK(out_h > 0 && out_w > 0, op, ": the output would be empty (", out_h, " x ", out_w, "): input ",
              input.size(2), " x ", input.size(3), " is smaller than the dilated kernel");
  const std::int64_t taps = kh * kw;
  TORCH_CHECK(offset.size(0) == n && offset.size(1) == offset_groups * taps * 2 && offset.size(2) == out_h &&
                  offset.size(3) == out_w,
              op, ": offset must have shape [", n, ", ", offset_groups * taps * 2, ", ", out_h, ", ", out_w,
              "] (offset_groups * kernel_h * kernel_w * 2 channels, the output's size), got ", offset.sizes());
  if (use_mask)
    TORCH_CHECK(mask.size(0) == n && mask.size(1) == offset_groups * taps && mask.size(2) == out_h &&
                    mask.size(3) == out_w,
                op, ": mask must have shape [", n, ", ", offset_groups * taps, ", ", out_h, ", ", out_w, "], got ",
                mask.sizes());
  return Geometry{n, c, input.size(2), input.size(3), kh, kw, stride_h, stride_w, pad_h, pad_w, dilation_h,
                  dilation_w, out_h, out_w, offset_groups, use_mask};
}

// Images per chunk: the columns ([C * K, images * HW]) within 512 MiB (torchvision takes 32
// images at a time whatever their size), plus the deterministic CUDA scatter's entries.
std::int64_t images_per_chunk(const Geometry& g, std::int64_t groups, const at::Tensor& input) {
  constexpr std::int64_t kBudget = std::int64_t(512) << 20;
  std::int64_t bytes = g.channels * g.taps() * g.plane() * input.element_size();
  if (input.is_cuda() && at::globalContext().deterministicAlgorithms())  // the ordered scatter's entries:
    bytes += scatter_groups(g, groups) * g.taps() * g.plane() * 4 * 100;  // 4 corners, ~100 bytes each
  return std::clamp<std::int64_t>(kBudget / std::max<std::int64_t>(bytes, 1), 1, std::max<std::int64_t>(g.batch, 1));
}

struct Chunk {
  std::int64_t first, size;
  Geometry g;
  at::Tensor input, offset, mask;
};

template <typename Body>
void for_chunks(const Geometry& g, std::int64_t groups, const at::Tensor& input, const at::Tensor& offset, const at::Tensor& mask,
                Body&& body) {
  const std::int64_t step = images_per_chunk(g, groups, input);
  for (std::int64_t first = 0; first < g.batch; first += step) {
    const std::int64_t size = std::min(step, g.batch - first);
    Geometry gc = g;
    gc.batch = size;
    body(Chunk{first, size, gc, input.narrow(0, first, size), offset.narrow(0, first, size),
               g.use_mask ? mask.narrow(0, first, size) : at::Tensor()});
  }
}

}  // namespace

namespace {

// The input as the kernels read it: contiguous, in channels_last memory for channels-last
// kernels (a warp's 32 channels one contiguous load; read through NCHW strides instead, the
// 8x256x50x68 case ran 2.9x slower in bfloat16 on an H100, even from L2).
at::Tensor in_layout(const at::Tensor& t, bool channels_last) {
  return t.contiguous(channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
}

// The weight as the columns' layout multiplies it: [groups, C_out / groups, C / groups * K]
// with (channel, tap) rows for channels-first columns, (tap, channel) for channels-last.
at::Tensor weight_matrix(const at::Tensor& weight, std::int64_t groups, bool channels_last) {
  const std::int64_t c_out = weight.size(0), cg = weight.size(1), taps = weight.size(2) * weight.size(3);
  const at::Tensor w = weight.contiguous().view({groups, c_out / groups, cg, taps});
  return channels_last ? w.transpose(2, 3).reshape({groups, c_out / groups, taps * cg})
                       : w.view({groups, c_out / groups, cg * taps});
}

// The columns of `images` images as [groups, C / groups * K, images * HW] operands.
at::Tensor columns_operand(const at::Tensor& columns, std::int64_t groups, std::int64_t ck, std::int64_t n,
                           bool channels_last) {
  return channels_last ? columns.view({n, groups, ck / groups}).permute({1, 2, 0})
                       : columns.view({groups, ck / groups, n});
}

}  // namespace

at::Tensor forward(const Kernels& kernels, const at::Tensor& input_, const at::Tensor& weight_,
                   const at::Tensor& offset_, const at::Tensor& mask_, const at::Tensor& bias, std::int64_t stride_h,
                   std::int64_t stride_w, std::int64_t pad_h, std::int64_t pad_w, std::int64_t dilation_h,
                   std::int64_t dilation_w, std::int64_t groups, std::int64_t offset_groups, bool use_mask) {
  const Geometry g = check_args(deform_conv::kOp, input_, weight_, offset_, mask_, bias, stride_h, stride_w, pad_h,
                                pad_w, dilation_h, dilation_w, groups, offset_groups, use_mask);
  const bool cl = kernels.channels_last;
  const at::Tensor input = in_layout(input_, cl), offset = offset_.contiguous();
  const at::Tensor mask = use_mask ? mask_.contiguous() : at::Tensor();
  const std::int64_t c_out = weight_.size(0), ck = g.channels * g.taps(), hw = g.plane();
  const at::Tensor weight = weight_matrix(weight_, groups, cl);
  at::Tensor out = at::empty({g.batch, c_out, g.out_h, g.out_w}, input.options());
  for_chunks(g, groups, input, offset, mask, [&](const Chunk& chunk) {
    const std::int64_t n = chunk.size * hw;
    at::Tensor columns = cl ? at::empty({n, ck}, input.options()) : at::empty({ck, n}, input.options());
    kernels.im2col(chunk.g, groups, chunk.input, chunk.offset, chunk.mask, columns);
    // [groups, C_out / groups, images * HW] = [C_out, images, HW]
    const at::Tensor product = at::bmm(weight, columns_operand(columns, groups, ck, n, cl));
    at::Tensor dst = out.narrow(0, chunk.first, chunk.size).view({chunk.size, c_out, hw});
    at::add_out(dst, product.view({c_out, chunk.size, hw}).transpose(0, 1), bias.view({1, c_out, 1}));
  });
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> backward(
    const Kernels& kernels, const at::Tensor& grad_, const at::Tensor& input_, const at::Tensor& weight_,
    const at::Tensor& offset_, const at::Tensor& mask_, const at::Tensor& bias, std::int64_t stride_h,
    std::int64_t stride_w, std::int64_t pad_h, std::int64_t pad_w, std::int64_t dilation_h, std::int64_t dilation_w,
    std::int64_t groups, std::int64_t offset_groups, bool use_mask) {
  constexpr const char* op = "tvx._deform_conv2d_backward";
  const Geometry g = check_args(op, input_, weight_, offset_, mask_, bias, stride_h, stride_w, pad_h, pad_w,
                                dilation_h, dilation_w, groups, offset_groups, use_mask);
  const std::int64_t c_out = weight_.size(0), ck = g.channels * g.taps(), hw = g.plane();
  core::check_rank(op, {"grad", grad_}, {4}, "[N, C_out, out_h, out_w]");
  core::check_same_dtype(op, {{"input", input_}, {"grad", grad_}});
  core::check_same_device(op, {{"input", input_}, {"grad", grad_}});
  TORCH_CHECK(grad_.size(0) == g.batch && grad_.size(1) == c_out && grad_.size(2) == g.out_h &&
                  grad_.size(3) == g.out_w,
              op, ": grad must have shape [", g.batch, ", ", c_out, ", ", g.out_h, ", ", g.out_w, "], got ",
              grad_.sizes());
  const bool cl = kernels.channels_last;
  const at::Tensor grad = grad_.contiguous(), input = in_layout(input_, cl), offset = offset_.contiguous();
  const at::Tensor mask = use_mask ? mask_.contiguous() : at::Tensor();
  const at::Tensor weight = weight_matrix(weight_, groups, cl);
  const bool reduced = input.scalar_type() == at::kHalf || input.scalar_type() == at::kBFloat16;
  const at::ScalarType acc = reduced ? at::kFloat : input.scalar_type();

  at::Tensor grad_input = at::zeros_like(input, input.options().dtype(acc));  // input's strides
  at::Tensor grad_offset = at::empty_like(offset);
  at::Tensor grad_mask = use_mask ? at::empty_like(mask) : at::zeros_like(mask_);
  at::Tensor grad_weight, grad_bias;  // summed over chunks in `acc`
  for_chunks(g, groups, input, offset, mask, [&](const Chunk& chunk) {
    const std::int64_t n = chunk.size * hw;
    // The chunk's gradient as [groups, C_out / groups, images * HW].
    const at::Tensor go = grad.narrow(0, chunk.first, chunk.size)
                              .view({chunk.size, groups, c_out / groups, hw})
                              .permute({1, 2, 0, 3})
                              .reshape({groups, c_out / groups, n});
    // The columns' gradient (weight^T x grad), in the columns' layout.
    at::Tensor columns;
    if (cl) {
      const at::Tensor t = at::bmm(go.transpose(1, 2), weight);  // [groups, images * HW, K * C / groups]
      columns = groups == 1 ? t.view({n, ck}) : t.transpose(0, 1).reshape({n, ck});
    } else {
      columns = at::bmm(weight.transpose(1, 2), go).view({ck, n});
    }
    const at::Tensor gb = go.sum(2).view({c_out});  // rows of go: a faster reduction than over grad's dims 0, 2, 3
    grad_bias = grad_bias.defined() ? grad_bias.add_(gb) : gb.to(acc);
    at::Tensor gi = grad_input.narrow(0, chunk.first, chunk.size), goff = grad_offset.narrow(0, chunk.first, chunk.size);
    at::Tensor gm = use_mask ? grad_mask.narrow(0, chunk.first, chunk.size) : at::Tensor();
    kernels.col2im(chunk.g, groups, columns, chunk.input, chunk.offset, chunk.mask, gi, goff, gm);
    kernels.im2col(chunk.g, groups, chunk.input, chunk.offset, chunk.mask, columns);  // the same buffer, now columns
    const at::Tensor gw = at::bmm(go, columns_operand(columns, groups, ck, n, cl).transpose(1, 2));
    if (!grad_weight.defined())
      grad_weight = chunk.first + chunk.size == g.batch ? gw : gw.to(acc);
    else
      grad_weight.add_(gw);
  });
  if (grad_weight.defined()) {
    const std::int64_t cg = weight_.size(1), taps = g.taps();
    grad_weight = cl ? grad_weight.view({groups, c_out / groups, taps, cg}).transpose(2, 3) : grad_weight;
    grad_weight = grad_weight.reshape(weight_.sizes()).to(input.scalar_type());
  } else {
    grad_weight = at::zeros(weight_.sizes(), weight_.options());
  }
  return {grad_input.to(input.scalar_type()).contiguous(input_.suggest_memory_format()), grad_weight, grad_offset,
          grad_mask, grad_bias.defined() ? grad_bias.to(bias.scalar_type()) : at::zeros_like(bias)};
}

}  // namespace deform_conv

TVX_LIBRARY(m) {
  m.def("deform_conv2d(Tensor input, Tensor weight, Tensor offset, Tensor mask, Tensor bias, SymInt stride_h, "
        "SymInt stride_w, SymInt pad_h, SymInt pad_w, SymInt dilation_h, SymInt dilation_w, SymInt groups, "
        "SymInt offset_groups, bool use_mask) -> Tensor");
  m.def("_deform_conv2d_backward(Tensor grad, Tensor input, Tensor weight, Tensor offset, Tensor mask, "
        "Tensor bias, SymInt stride_h, SymInt stride_w, SymInt pad_h, SymInt pad_w, SymInt dilation_h, "
        "SymInt dilation_w, SymInt groups, SymInt offset_groups, bool use_mask) -> (Tensor, Tensor, Tensor, "
        "Tensor, Tensor)");
}

using c10::SymInt;

at::Tensor deform_conv2d(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& offset,
                         const at::Tensor& mask, const at::Tensor& bias, std::int64_t stride_h, std::int64_t stride_w,
                         std::int64_t pad_h, std::int64_t pad_w, std::int64_t dilation_h, std::int64_t dilation_w,
                         std::int64_t groups, std::int64_t offset_groups, bool use_mask) {
  return core::call_op<"tvx::deform_conv2d",
                       at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                  const at::Tensor&, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt,
                                  bool)>(input, weight, offset, mask, bias, SymInt(stride_h), SymInt(stride_w),
                                         SymInt(pad_h), SymInt(pad_w), SymInt(dilation_h), SymInt(dilation_w),
                                         SymInt(groups), SymInt(offset_groups), use_mask);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> deform_conv2d_backward(
    const at::Tensor& grad, const at::Tensor& input, const at::Tensor& weight, const at::Tensor& offset,
    const at::Tensor& mask, const at::Tensor& bias, std::int64_t stride_h, std::int64_t stride_w, std::int64_t pad_h,
    std::int64_t pad_w, std::int64_t dilation_h, std::int64_t dilation_w, std::int64_t groups,
    std::int64_t offset_groups, bool use_mask) {
  using Result = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>;
  return core::call_op<"tvx::_deform_conv2d_backward",
                       Result(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                              const at::Tensor&, const at::Tensor&, SymInt, SymInt, SymInt, SymInt, SymInt, SymInt,
                              SymInt, SymInt, bool)>(grad, input, weight, offset, mask, bias, SymInt(stride_h),
                                                     SymInt(stride_w), SymInt(pad_h), SymInt(pad_w),
                                                     SymInt(dilation_h), SymInt(dilation_w), SymInt(groups),
                                                     SymInt(offset_groups), use_mask);
}

at::Tensor deform_conv2d(const at::Tensor& input, const at::Tensor& offset, const at::Tensor& weight,
                         const DeformConv2dOptions& options) {
  TORCH_CHECK(weight.dim() == 4, deform_conv::kOp, ": weight must have shape [C_out, C / groups, kernel_h, kernel_w], got ",
              weight.sizes());
  TORCH_CHECK(input.dim() == 4, deform_conv::kOp, ": input must have shape [N, C, H, W], got ", input.sizes());
  const std::int64_t taps = weight.size(2) * weight.size(3);
  TORCH_CHECK(offset.dim() == 4 && taps > 0 && offset.size(1) >= 2 * taps && offset.size(1) % (2 * taps) == 0, deform_conv::kOp,
              ": offset.shape[1] must be a positive multiple of 2 * kernel_h * kernel_w = ", 2 * taps, ", got offset of "
              "shape ", offset.sizes());
  TORCH_CHECK(weight.size(1) > 0 && input.size(1) % weight.size(1) == 0, deform_conv::kOp,
              ": input channels must be a multiple of weight.shape[1], got ", input.size(1), " and ", weight.size(1));
  const at::Tensor bias = options.bias ? *options.bias : at::zeros({weight.size(0)}, input.options());
  const at::Tensor mask = options.mask ? *options.mask : at::zeros({input.size(0), 1}, input.options());
  return deform_conv2d(input, weight, offset, mask, bias, options.stride[0], options.stride[1], options.padding[0],
                       options.padding[1], options.dilation[0], options.dilation[1], input.size(1) / weight.size(1),
                       offset.size(1) / (2 * taps), options.mask.has_value());
}

}  // namespace tvx::ops
