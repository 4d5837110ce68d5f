// The GPU JPEG forms in a build without nvJPEG (no CUDA, or no nvJPEG found): clear errors.
#include "io/io.h"

namespace tvx::io::detail {

namespace {
constexpr const char* kWhy = "this tvx was built without nvJPEG (see `tvx info`); decode on the CPU instead";
}

std::vector<at::Tensor> decode_jpegs_cuda(const std::vector<at::Tensor>&, std::int64_t, at::Device, bool,
                                          at::OptionalIntArrayRef) {
  TORCH_CHECK(false, "tvx.decode_jpegs: ", kWhy);
}
std::vector<at::Tensor> encode_jpegs_cuda(const std::vector<at::Tensor>&, std::int64_t) {
  TORCH_CHECK(false, "tvx.encode_jpegs: ", kWhy);
}
std::string nvjpeg_backend(at::Device) { TORCH_CHECK(false, "tvx._nvjpeg_backend: ", kWhy); }
std::string nvjpeg_library() { return ""; }

}  // namespace tvx::io::detail
