// ResNet (He et al. 2015) as torchvision builds it: names, strides (on the 3x3 of the
// bottleneck) and initialisation match torchvision.models.resnet.
#include <tvx/models.h>

#include <torch/nn/init.h>

namespace tvx::models {
namespace nn = torch::nn;

namespace {

nn::Conv2d conv3x3(std::int64_t in, std::int64_t out, std::int64_t stride = 1, std::int64_t groups = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).groups(groups).bias(false));
}

nn::Conv2d conv1x1(std::int64_t in, std::int64_t out, std::int64_t stride = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false));
}

torch::Tensor add_identity_relu(torch::Tensor out, const torch::Tensor& x, nn::Sequential& downsample) {
  out += downsample ? downsample->forward(x) : x;
  return out.relu_();
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(std::int64_t inplanes, std::int64_t planes, std::int64_t stride,
                               nn::Sequential downsample_, std::int64_t groups, std::int64_t base_width) {
  TORCH_CHECK(groups == 1 && base_width == 64, "tvx.models: BasicBlock supports only groups=1 and base_width=64");
  conv1 = register_module("conv1", conv3x3(inplanes, planes, stride));
  bn1 = register_module("bn1", nn::BatchNorm2d(planes));
  relu = register_module("relu", nn::ReLU(nn::ReLUOptions(true)));
  conv2 = register_module("conv2", conv3x3(planes, planes));
  bn2 = register_module("bn2", nn::BatchNorm2d(planes));
  if (downsample_) downsample = register_module("downsample", downsample_);
}

torch::Tensor BasicBlockImpl::forward(torch::Tensor x) {
  auto out = relu(bn1(conv1(x)));
  out = bn2(conv2(out));
  return add_identity_relu(out, x, downsample);
}

BottleneckImpl::BottleneckImpl(std::int64_t inplanes, std::int64_t planes, std::int64_t stride,
                               nn::Sequential downsample_, std::int64_t groups, std::int64_t base_width) {
  const std::int64_t width = planes * base_width / 64 * groups;
  conv1 = register_module("conv1", conv1x1(inplanes, width));
  bn1 = register_module("bn1", nn::BatchNorm2d(width));
  conv2 = register_module("conv2", conv3x3(width, width, stride, groups));
  bn2 = register_module("bn2", nn::BatchNorm2d(width));
  conv3 = register_module("conv3", conv1x1(width, planes * expansion));
  bn3 = register_module("bn3", nn::BatchNorm2d(planes * expansion));
  relu = register_module("relu", nn::ReLU(nn::ReLUOptions(true)));
  if (downsample_) downsample = register_module("downsample", downsample_);
}

torch::Tensor BottleneckImpl::forward(torch::Tensor x) {
  auto out = relu(bn1(conv1(x)));
  out = relu(bn2(conv2(out)));
  out = bn3(conv3(out));
  return add_identity_relu(out, x, downsample);
}

ResNetImpl::ResNetImpl(const ResNetConfig& cfg) {
  const bool bottleneck = cfg.block == ResNetConfig::Block::bottleneck;
  const std::int64_t expansion = bottleneck ? BottleneckImpl::expansion : BasicBlockImpl::expansion;
  std::int64_t inplanes = 64;
  conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)));
  bn1 = register_module("bn1", nn::BatchNorm2d(64));
  relu = register_module("relu", nn::ReLU(nn::ReLUOptions(true)));
  maxpool = register_module("maxpool", nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));

  auto make_layer = [&](std::int64_t planes, std::int64_t blocks, std::int64_t stride) {
    nn::Sequential layer;
    for (std::int64_t b = 0; b < blocks; ++b) {
      nn::Sequential down{nullptr};
      if (b == 0 && (stride != 1 || inplanes != planes * expansion))
        down = nn::Sequential(conv1x1(inplanes, planes * expansion, stride), nn::BatchNorm2d(planes * expansion));
      const std::int64_t s = b == 0 ? stride : 1;
      if (bottleneck)
        layer->push_back(Bottleneck(inplanes, planes, s, down, cfg.groups, cfg.width_per_group));
      else
        layer->push_back(BasicBlock(inplanes, planes, s, down, cfg.groups, cfg.width_per_group));
      inplanes = planes * expansion;
    }
    return layer;
  };
  layer1 = register_module("layer1", make_layer(64, cfg.layers[0], 1));
  layer2 = register_module("layer2", make_layer(128, cfg.layers[1], 2));
  layer3 = register_module("layer3", make_layer(256, cfg.layers[2], 2));
  layer4 = register_module("layer4", make_layer(512, cfg.layers[3], 2));
  avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})));
  fc = register_module("fc", nn::Linear(512 * expansion, cfg.num_classes));

  // torchvision's initialisation (Linear keeps PyTorch's default).
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = m->as<nn::Conv2d>()) {
      nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = m->as<nn::BatchNorm2d>()) {
      nn::init::ones_(bn->weight);
      nn::init::zeros_(bn->bias);
    }
  }
}

torch::Tensor ResNetImpl::forward(torch::Tensor x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 3, "tvx.models.ResNet: input must be [N, 3, H, W], got ", x.sizes());
  // One stage per statement, each result moved on, so that no stage's output outlives the
  // next stage (temporaries of one nested expression would all live to its end).
  x = maxpool(relu(bn1(conv1(std::move(x)))));
  for (auto* layer : {&layer1, &layer2, &layer3, &layer4}) x = (*layer)->forward(std::move(x));
  return fc(torch::flatten(avgpool(std::move(x)), 1));
}

namespace {
ResNet make(ResNetConfig::Block block, std::array<std::int64_t, 4> layers, std::int64_t num_classes,
            std::int64_t groups = 1, std::int64_t width = 64) {
  return ResNet(ResNetConfig{block, layers, num_classes, groups, width});
}
constexpr auto kBasic = ResNetConfig::Block::basic;
constexpr auto kBottleneck = ResNetConfig::Block::bottleneck;
}  // namespace

ResNet resnet18(std::int64_t n) { return make(kBasic, {2, 2, 2, 2}, n); }
ResNet resnet34(std::int64_t n) { return make(kBasic, {3, 4, 6, 3}, n); }
ResNet resnet50(std::int64_t n) { return make(kBottleneck, {3, 4, 6, 3}, n); }
ResNet resnet101(std::int64_t n) { return make(kBottleneck, {3, 4, 23, 3}, n); }
ResNet resnet152(std::int64_t n) { return make(kBottleneck, {3, 8, 36, 3}, n); }

ResNet resnet(std::string_view name, std::int64_t n) {
  if (name == "resnet18") return resnet18(n);
  if (name == "resnet34") return resnet34(n);
  if (name == "resnet50") return resnet50(n);
  if (name == "resnet101") return resnet101(n);
  if (name == "resnet152") return resnet152(n);
  if (name == "resnext50_32x4d") return make(kBottleneck, {3, 4, 6, 3}, n, 32, 4);
  if (name == "resnext101_32x8d") return make(kBottleneck, {3, 4, 23, 3}, n, 32, 8);
  if (name == "resnext101_64x4d") return make(kBottleneck, {3, 4, 23, 3}, n, 64, 4);
  if (name == "wide_resnet50_2") return make(kBottleneck, {3, 4, 6, 3}, n, 1, 128);
  if (name == "wide_resnet101_2") return make(kBottleneck, {3, 4, 23, 3}, n, 1, 128);
  TORCH_CHECK(false, "tvx.models.resnet: unknown architecture '", name,
              "'; expected resnet18/34/50/101/152, resnext50_32x4d, resnext101_32x8d, resnext101_64x4d, "
              "wide_resnet50_2 or wide_resnet101_2");
}

}  // namespace tvx::models
