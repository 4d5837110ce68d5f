// tvx models: torch::nn modules whose parameter and buffer names equal torchvision's, so a
// state dict saved in Python by torch.save(model.state_dict(), path) loads with one call.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tvx::models {

struct ResNetConfig {
  enum class Block { basic, bottleneck };
  Block block = Block::basic;
  std::array<std::int64_t, 4> layers{2, 2, 2, 2};
  std::int64_t num_classes = 1000;
  std::int64_t groups = 1;            ///< ResNeXt cardinality
  std::int64_t width_per_group = 64;  ///< 128 for wide ResNets
};

/// Two 3x3 convolutions (ResNet-18/34).
class BasicBlockImpl : public torch::nn::Module {
 public:
  static constexpr std::int64_t expansion = 1;
  BasicBlockImpl(std::int64_t inplanes, std::int64_t planes, std::int64_t stride, torch::nn::Sequential downsample,
                 std::int64_t groups, std::int64_t base_width);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::ReLU relu{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

/// 1x1, 3x3 (with the stride, as torchvision's "ResNet v1.5"), 1x1 (ResNet-50 and deeper).
class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr std::int64_t expansion = 4;
  BottleneckImpl(std::int64_t inplanes, std::int64_t planes, std::int64_t stride, torch::nn::Sequential downsample,
                 std::int64_t groups, std::int64_t base_width);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::ReLU relu{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

class ResNetImpl : public torch::nn::Module {
 public:
  explicit ResNetImpl(const ResNetConfig& config);
  /// [N, 3, H, W] -> logits [N, num_classes]
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::ReLU relu{nullptr};
  torch::nn::MaxPool2d maxpool{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::AdaptiveAvgPool2d avgpool{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ResNet);

ResNet resnet18(std::int64_t num_classes = 1000);
ResNet resnet34(std::int64_t num_classes = 1000);
ResNet resnet50(std::int64_t num_classes = 1000);
ResNet resnet101(std::int64_t num_classes = 1000);
ResNet resnet152(std::int64_t num_classes = 1000);
/// By torchvision's builder name: resnet18/34/50/101/152, resnext50_32x4d,
/// resnext101_32x8d, resnext101_64x4d, wide_resnet50_2, wide_resnet101_2.
ResNet resnet(std::string_view name, std::int64_t num_classes = 1000);

/// Loads a state dict saved in Python by torch.save(model.state_dict(), path) into
/// `module`, matching names exactly. With strict, a missing or unexpected name, or a shape
/// that differs, is an error that names them; without, only shapes are checked.
void load_state_dict(torch::nn::Module& module, const std::string& path, bool strict = true);

/// Moves every 4-D parameter and buffer to channels-last memory format (NHWC), the layout
/// cuDNN's fastest convolutions take.
void to_channels_last(torch::nn::Module& module);

}  // namespace tvx::models
