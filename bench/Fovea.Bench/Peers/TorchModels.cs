using static TorchSharp.torch;
using TorchTensor = TorchSharp.torch.Tensor;

namespace Fovea.Bench.Peers;

/// <summary>
/// The bench's models built in TorchSharp layer for layer as <see cref="Fovea.Nn.Zoo"/> builds them,
/// with the same child indices, so that the state dicts have the same keys and shapes
/// (<see cref="TorchWeights.CopyFrom"/> checks that).
/// </summary>
public static class TorchModels
{
    public static nn.Module<TorchTensor, TorchTensor> Create(string name, int channels, int height, int width, int classes)
    {
        int pooled = 64 * (height / 4) * (width / 4);
        return name switch
        {
            "mlp" => nn.Sequential(nn.Flatten(),
                nn.Linear(channels * height * width, 256), nn.ReLU(),
                nn.Linear(256, 128), nn.ReLU(),
                nn.Linear(128, classes)),
            "cnn-small" => nn.Sequential(
                nn.Conv2d(channels, 32, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(pooled, 128), nn.ReLU(), nn.Linear(128, classes)),
            "cnn-bn" => CnnBn(channels, classes, pooled),
            "resnet20" => ResNet(channels, classes, blocksPerStage: 3),
            _ => throw new ArgumentException($"TorchModels: no TorchSharp twin for '{name}'"),
        };
    }

    private static nn.Module<TorchTensor, TorchTensor> CnnBn(int channels, int classes, int pooled)
    {
        List<nn.Module<TorchTensor, TorchTensor>> layers =
        [
            .. ConvBnRelu(channels, 32), .. ConvBnRelu(32, 32), nn.MaxPool2d(2),
            .. ConvBnRelu(32, 64), .. ConvBnRelu(64, 64), nn.MaxPool2d(2),
            nn.Dropout(0.25), nn.Flatten(), nn.Linear(pooled, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, classes),
        ];
        return nn.Sequential(layers);
    }

    /// <summary>Three consecutive children, as Zoo's cnn-bn adds them (not a nested Sequential: the indices must match).</summary>
    private static IEnumerable<nn.Module<TorchTensor, TorchTensor>> ConvBnRelu(long inChannels, long outChannels) =>
        [nn.Conv2d(inChannels, outChannels, 3, padding: 1, bias: false), nn.BatchNorm2d(outChannels), nn.ReLU()];

    private static nn.Module<TorchTensor, TorchTensor> ResNet(int channels, int classes, int blocksPerStage)
    {
        var layers = new List<nn.Module<TorchTensor, TorchTensor>> { nn.Conv2d(channels, 16, 3, padding: 1, bias: false), nn.BatchNorm2d(16), nn.ReLU() };
        int c = 16;
        foreach (int width in new[] { 16, 32, 64 })
        {
            for (int i = 0; i < blocksPerStage; i++)
            {
                layers.Add(new TorchBasicBlock(c, width, stride: i == 0 && width != 16 ? 2 : 1));
                c = width;
            }
        }
        layers.AddRange([nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes)]);
        return nn.Sequential(layers);
    }
}
