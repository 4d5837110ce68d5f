// JPEG encoding on the GPU with nvJPEG, as torchvision's encode_jpeg of CUDA images: 4:2:0
// chroma for RGB (libjpeg's default), one plane for gray, baseline Huffman, at `quality`. The
// bytes stay on the device (uint8 CUDA tensors), written on the caller's current stream.
#include "io/nvjpeg/nvjpeg.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDAGuard.h>

#include <memory>
#include <vector>

#include "io/io.h"

namespace tvx::io {
namespace {

constexpr const char* kOp = "tvx.encode_jpegs";

// The encoder's own handle: the default backend (the decoders' may be the hardware one).
struct EncodeState {
  std::mutex mutex;
  nvjpegHandle_t handle = nullptr;
  nvjpegEncoderState_t state = nullptr;
  nvjpegEncoderParams_t params = nullptr;
  nvjpeg::StreamOrder order;  // the callers' streams' uses of the state (its bitstream buffer)
};

EncodeState& encode_state(int device, cudaStream_t stream) {
  static nvjpeg::PerDevice<EncodeState> states;
  return states.get(device, [&](int) {
    const nvjpeg::Api& nv = nvjpeg::api();
    auto s = std::make_unique<EncodeState>();
    TVX_NVJPEG_CHECK(kOp, nv.nvjpegCreateSimple(&s->handle));
    TVX_NVJPEG_CHECK(kOp, nv.nvjpegEncoderStateCreate(s->handle, &s->state, stream));
    TVX_NVJPEG_CHECK(kOp, nv.nvjpegEncoderParamsCreate(s->handle, &s->params, stream));
    return s;
  });
}

}  // namespace

namespace detail {

std::vector<at::Tensor> encode_jpegs_cuda(const std::vector<at::Tensor>& images, std::int64_t quality) {
  TORCH_CHECK(quality >= 1 && quality <= 100, kOp, ": quality must be in [1, 100], got ", quality);
  std::vector<at::Tensor> encoded(images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    const at::Tensor& image = images[i];
    TORCH_CHECK(image.is_cuda(), kOp, ": image ", i, " must be a CUDA tensor, got ", image.device());
    TORCH_CHECK(image.scalar_type() == at::kByte, kOp, ": image ", i, " must be uint8, got ", image.scalar_type());
    TORCH_CHECK(image.dim() == 3 && (image.size(0) == 1 || image.size(0) == 3), kOp, ": image ", i,
                " must have shape [C, H, W] with C = 1 or 3, got ", image.sizes());
    TORCH_CHECK(image.size(1) > 0 && image.size(2) > 0 && image.size(1) <= 65535 && image.size(2) <= 65535, kOp,
                ": image ", i, ": JPEG images are 1 to 65535 pixels a side, got ", image.size(1), " x ", image.size(2));
  }
  if (images.empty()) return encoded;
  const int index = images[0].get_device();
  for (std::size_t i = 1; i < images.size(); ++i)
    TORCH_CHECK(images[i].get_device() == index, kOp, ": all images must be on one device; image 0 is on cuda:", index,
                ", image ", i, " on ", images[i].device());
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream(index);
  const nvjpeg::Api& nv = nvjpeg::api();
  EncodeState& s = encode_state(index, stream);
  std::lock_guard<std::mutex> lock(s.mutex);
  // The previous caller's copies out of the state may still be queued on its stream.
  const nvjpeg::StreamOrder::Use use(s.order, stream);
  TVX_NVJPEG_CHECK(kOp, nv.nvjpegEncoderParamsSetQuality(s.params, int(quality), stream));
  TVX_NVJPEG_CHECK(kOp, nv.nvjpegEncoderParamsSetOptimizedHuffman(s.params, 0, stream));
  for (std::size_t i = 0; i < images.size(); ++i) {
    const at::Tensor image = images[i].contiguous();
    const bool gray = image.size(0) == 1;
    const std::int64_t height = image.size(1), width = image.size(2);
    TVX_NVJPEG_CHECK(kOp, nv.nvjpegEncoderParamsSetSamplingFactors(s.params, gray ? NVJPEG_CSS_GRAY : NVJPEG_CSS_420, stream));
    nvjpegImage_t source{};
    for (int c = 0; c < image.size(0); ++c) {
      source.channel[c] = const_cast<unsigned char*>(image.const_data_ptr<std::uint8_t>()) + c * height * width;
      source.pitch[c] = std::size_t(width);
    }
    if (gray) {  // one luma plane: nvJPEG's YUV input with gray sampling
      TVX_NVJPEG_CHECK(kOp, nv.nvjpegEncodeYUV(s.handle, s.state, s.params, &source, NVJPEG_CSS_GRAY, int(width),
                                            int(height), stream));
    } else {
      TVX_NVJPEG_CHECK(kOp, nv.nvjpegEncodeImage(s.handle, s.state, s.params, &source, NVJPEG_INPUT_RGB, int(width),
                                              int(height), stream));
    }
    std::size_t length = 0;
    TVX_NVJPEG_CHECK(kOp, nv.nvjpegEncodeRetrieveBitstreamDevice(s.handle, s.state, nullptr, &length, stream));
    encoded[i] = at::empty({std::int64_t(length)}, image.options());
    TVX_NVJPEG_CHECK(kOp, nv.nvjpegEncodeRetrieveBitstreamDevice(s.handle, s.state, encoded[i].mutable_data_ptr<std::uint8_t>(),
                                                              &length, stream));
  }
  return encoded;
}

}  // namespace detail
}  // namespace tvx::io
