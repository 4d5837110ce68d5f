// torch.classes.tvx.ResNet: the C++ ResNet reachable from Python (tests and benchmarks
// compare it with torchvision in one process). Holds the module in eval mode.
#include <tvx/models.h>

#include <c10/core/InferenceMode.h>
#include <torch/custom_class.h>

namespace tvx::models {
namespace {

struct ResNetHandle : torch::CustomClassHolder {
  ResNet net;

  ResNetHandle(const std::string& arch, std::int64_t num_classes) : net(resnet(arch, num_classes)) {
    net->eval();
  }

  void load_state_dict(const std::string& path) { models::load_state_dict(*net, path); }

  // dtype: "float32", "float16" or "bfloat16".
  void to(const std::string& device, const std::string& dtype, bool channels_last) {
    at::ScalarType t;
    if (dtype == "float32") t = at::kFloat;
    else if (dtype == "float16") t = at::kHalf;
    else if (dtype == "bfloat16") t = at::kBFloat16;
    else TORCH_CHECK(false, "tvx.ResNet.to: dtype must be float32, float16 or bfloat16, got '", dtype, "'");
    net->to(at::Device(device), t);
    if (channels_last) to_channels_last(*net);
  }

  at::Tensor forward(const at::Tensor& x) {
    c10::InferenceMode guard;
    return net->forward(x);
  }
};

const auto resnet_class = torch::class_<ResNetHandle>("tvx", "ResNet")
                              .def(torch::init<std::string, std::int64_t>())
                              .def("load_state_dict", &ResNetHandle::load_state_dict)
                              .def("to", &ResNetHandle::to)
                              .def("forward", &ResNetHandle::forward);

}  // namespace
}  // namespace tvx::models
