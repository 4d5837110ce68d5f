// nms under autocast, as torchvision registers it: boxes and scores in float32, the op run
// with autocast off. (The kernels compute float16/bfloat16 in float32 anyway; this keeps
// autocast from handing them reduced-precision copies first.)
#include <tvx/ops.h>

#include "core/op.h"
#include "core/registration.h"

namespace tvx::ops {

TVX_LIBRARY_IMPL(AutocastCPU, m) {
  m.impl("nms", core::autocast_fp32<c10::DeviceType::CPU, &nms>);
  m.impl("batched_nms", core::autocast_fp32<c10::DeviceType::CPU, &batched_nms>);
}

TVX_LIBRARY_IMPL(AutocastCUDA, m) {
  m.impl("nms", core::autocast_fp32<c10::DeviceType::CUDA, &nms>);
  m.impl("batched_nms", core::autocast_fp32<c10::DeviceType::CUDA, &batched_nms>);
}

}  // namespace tvx::ops
