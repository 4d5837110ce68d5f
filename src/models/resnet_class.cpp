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

  // Python: net.to(torch.device("cuda"), torch.bfloat16, channels_last=True).
  void to(c10::Device device, c10::ScalarType dtype, bool channels_last) {
    TORCH_CHECK(at::isFloatingType(dtype), "tvx.ResNet.to: dtype must be a floating point type, got ", dtype);
    net->to(device, dtype);
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
                              .def("to", &ResNetHandle::to, "",
                                   {torch::arg("device"), torch::arg("dtype"), torch::arg("channels_last") = false})
                              .def("forward", &ResNetHandle::forward);

}  // namespace
}  // namespace tvx::models
