// Meta kernels of the roi family: output shapes and dtypes from the arguments alone, with
// symbolic sizes kept, so torch.compile and torch.export trace these ops.
#include <ATen/ops/empty.h>

#include "core/registration.h"

namespace tvx::ops::roi {
namespace {

using c10::SymInt;

void check_meta(const char* op, const at::Tensor& data, const char* name, const at::Tensor& rois) {
  TORCH_CHECK(data.dim() == 4, op, ": ", name, " must have shape [N, C, H, W], got ", data.dim(), " dimensions");
  TORCH_CHECK(rois.dim() == 2 && rois.sym_size(1) == 5, op, ": rois must have shape [K, 5], got ", rois.sym_sizes());
  TORCH_CHECK(at::isFloatingType(data.scalar_type()) && at::isFloatingType(rois.scalar_type()), op, ": ", name,
              " and rois must be floating point");
}

at::Tensor roi_align_meta(const at::Tensor& input, const at::Tensor& rois, double, SymInt ph, SymInt pw, std::int64_t,
                          bool) {
  check_meta("tvx.roi_align", input, "input", rois);
  return at::empty_symint({rois.sym_size(0), input.sym_size(1), ph, pw}, input.options());
}

std::tuple<at::Tensor, at::Tensor> pooled_pair(const at::Tensor& input, const at::Tensor& rois, SymInt channels,
                                               SymInt ph, SymInt pw) {
  std::vector<SymInt> shape{rois.sym_size(0), std::move(channels), ph, pw};
  return {at::empty_symint(shape, input.options()), at::empty_symint(shape, input.options().dtype(at::kInt))};
}

std::tuple<at::Tensor, at::Tensor> roi_pool_meta(const at::Tensor& input, const at::Tensor& rois, double, SymInt ph,
                                                 SymInt pw) {
  check_meta("tvx.roi_pool", input, "input", rois);
  return pooled_pair(input, rois, input.sym_size(1), ph, pw);
}

void check_bins(const char* op, const SymInt& ph, const SymInt& pw) {
  TORCH_SYM_CHECK(ph.sym_gt(0).sym_and(pw.sym_gt(0)), op, ": pooled_height and pooled_width must be positive");
}

std::tuple<at::Tensor, at::Tensor> ps_roi_align_meta(const at::Tensor& input, const at::Tensor& rois, double,
                                                     SymInt ph, SymInt pw, std::int64_t) {
  check_meta("tvx.ps_roi_align", input, "input", rois);
  check_bins("tvx.ps_roi_align", ph, pw);
  return pooled_pair(input, rois, input.sym_size(1) / (ph * pw), ph, pw);
}

std::tuple<at::Tensor, at::Tensor> ps_roi_pool_meta(const at::Tensor& input, const at::Tensor& rois, double, SymInt ph,
                                                    SymInt pw) {
  check_meta("tvx.ps_roi_pool", input, "input", rois);
  check_bins("tvx.ps_roi_pool", ph, pw);
  return pooled_pair(input, rois, input.sym_size(1) / (ph * pw), ph, pw);
}

at::Tensor grad_input(const char* op, const at::Tensor& grad, const at::Tensor& rois, SymInt n, SymInt c, SymInt h,
                      SymInt w) {
  check_meta(op, grad, "grad", rois);
  return at::empty_symint({std::move(n), std::move(c), std::move(h), std::move(w)}, grad.options());
}

at::Tensor roi_align_backward_meta(const at::Tensor& grad, const at::Tensor& rois, double, SymInt, SymInt, SymInt n,
                                   SymInt c, SymInt h, SymInt w, std::int64_t, bool) {
  return grad_input("tvx._roi_align_backward", grad, rois, n, c, h, w);
}

at::Tensor roi_pool_backward_meta(const at::Tensor& grad, const at::Tensor& rois, const at::Tensor&, double, SymInt,
                                  SymInt, SymInt n, SymInt c, SymInt h, SymInt w) {
  return grad_input("tvx._roi_pool_backward", grad, rois, n, c, h, w);
}

at::Tensor ps_roi_align_backward_meta(const at::Tensor& grad, const at::Tensor& rois, const at::Tensor&, double,
                                      SymInt, SymInt, std::int64_t, SymInt n, SymInt c, SymInt h, SymInt w) {
  return grad_input("tvx._ps_roi_align_backward", grad, rois, n, c, h, w);
}

at::Tensor ps_roi_pool_backward_meta(const at::Tensor& grad, const at::Tensor& rois, const at::Tensor&, double, SymInt,
                                     SymInt, SymInt n, SymInt c, SymInt h, SymInt w) {
  return grad_input("tvx._ps_roi_pool_backward", grad, rois, n, c, h, w);
}

}  // namespace

TVX_LIBRARY_IMPL(Meta, m) {
  m.impl("roi_align", &roi_align_meta);
  m.impl("_roi_align_backward", &roi_align_backward_meta);
  m.impl("roi_pool", &roi_pool_meta);
  m.impl("_roi_pool_backward", &roi_pool_backward_meta);
  m.impl("ps_roi_align", &ps_roi_align_meta);
  m.impl("_ps_roi_align_backward", &ps_roi_align_backward_meta);
  m.impl("ps_roi_pool", &ps_roi_pool_meta);
  m.impl("_ps_roi_pool_backward", &ps_roi_pool_backward_meta);
}

}  // namespace tvx::ops::roi
