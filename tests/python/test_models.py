"""tvx's C++ ResNets load torchvision state dicts and give torchvision's logits."""
import pytest
import torch
import torchvision

import tvx  # noqa: F401


def randomized(model: torch.nn.Module) -> torch.nn.Module:
    """Every parameter and buffer random, so a swapped name cannot go unnoticed."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if t.dtype == torch.int64:
                t.fill_(int(torch.randint(0, 1000, (), generator=g)))
            elif name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif t.dim() == 4:  # keep activations of deep nets in range
                fan_in = t[0].numel()
                t.copy_(torch.randn(t.shape, generator=g) * (1.0 / fan_in) ** 0.5)
            else:
                t.copy_(torch.randn(t.shape, generator=g) * 0.1 + (1.0 if name.endswith("bn1.weight") else 0.0))
    return model.eval()


@pytest.mark.parametrize("arch", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"])
def test_state_dict_from_torchvision_gives_the_same_logits(tmp_path, arch):
    ref = randomized(getattr(torchvision.models, arch)())
    path = tmp_path / f"{arch}.pt"
    torch.save(ref.state_dict(), path)

    net = torch.classes.tvx.ResNet(arch, 1000)
    net.load_state_dict(str(path))
    x = torch.randn(2, 3, 96, 96, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        want = ref(x)
    got = net.forward(x)
    assert got.shape == (2, 1000)
    assert want.abs().max() > 1e-2  # the comparison below is not between two zeros
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_mismatched_state_dict_is_refused(tmp_path):
    path = tmp_path / "r18.pt"
    torch.save(torchvision.models.resnet18().state_dict(), path)
    net = torch.classes.tvx.ResNet("resnet50", 1000)
    with pytest.raises(RuntimeError, match="tvx.models.load_state_dict"):
        net.load_state_dict(str(path))


def test_wrong_class_count_is_a_shape_error(tmp_path):
    path = tmp_path / "r18.pt"
    torch.save(torchvision.models.resnet18(num_classes=10).state_dict(), path)
    net = torch.classes.tvx.ResNet("resnet18", 1000)
    with pytest.raises(RuntimeError, match=r"shape mismatch for fc.weight"):
        net.load_state_dict(str(path))


def test_a_failed_load_leaves_the_model_as_it_was(tmp_path):
    # The defect this guards: tensors were copied before a shape mismatch was found.
    good = tmp_path / "good.pt"
    torch.save(randomized(torchvision.models.resnet18()).state_dict(), good)
    bad_sd = randomized(torchvision.models.resnet18(num_classes=10)).state_dict()
    bad_sd["conv1.weight"] = bad_sd["conv1.weight"] + 1  # would change the logits if copied
    bad = tmp_path / "bad.pt"
    torch.save(bad_sd, bad)
    net = torch.classes.tvx.ResNet("resnet18", 1000)
    net.load_state_dict(str(good))
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    before = net.forward(x)
    with pytest.raises(RuntimeError, match=r"shape mismatch for fc.weight .*nothing was loaded"):
        net.load_state_dict(str(bad))
    torch.testing.assert_close(net.forward(x), before, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_to_takes_a_torch_device_and_dtype(tmp_path, dtype):
    ref = randomized(torchvision.models.resnet18())
    path = tmp_path / "r18.pt"
    torch.save(ref.state_dict(), path)
    net = torch.classes.tvx.ResNet("resnet18", 1000)
    net.load_state_dict(str(path))
    net.to(torch.device("cpu"), dtype, True)
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(3)).to(dtype)
    got = net.forward(x.contiguous(memory_format=torch.channels_last))
    assert got.dtype == dtype
    with torch.inference_mode():
        want = ref.to(dtype)(x)
    tol = 1e-5 if dtype == torch.float32 else 5e-2
    torch.testing.assert_close(got, want, rtol=tol, atol=tol)
    with pytest.raises(RuntimeError, match="tvx.ResNet.to: dtype must be a floating point type"):
        net.to(torch.device("cpu"), torch.int64)
