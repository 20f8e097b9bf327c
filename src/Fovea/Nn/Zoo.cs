namespace Fovea.Nn;

/// <summary>
/// Models by name, for 1- or 3-channel images of any size (sizes that the pooling can halve).
/// Every model is a <see cref="Sequential"/> of Fovea layers, so its spec is data and its state
/// dict has PyTorch's names.
/// </summary>
public static class Zoo
{
    /// <summary>The names <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["mlp", "lenet5", "cnn-small", "cnn-tiny", "lc-small", "cnn-bn", "resnet8", "resnet20"];

    /// <summary>Builds model <paramref name="name"/> for [N, channels, height, width] input and <paramref name="classes"/> outputs.</summary>
    public static Sequential Create(string name, int channels = 1, int height = 28, int width = 28, int classes = 10, Rng? rng = null)
    {
        if (channels <= 0 || height <= 0 || width <= 0 || classes <= 0)
            throw new ArgumentException($"Zoo.Create(\"{name}\"): sizes must be positive. Received input {channels}x{height}x{width}, {classes} classes");
        rng ??= Init.Global;
        var input = new TensorShape(1, channels, height, width);
        return name switch
        {
            "mlp" => new Sequential(new Flatten(),
                new Linear(channels * height * width, 256, rng: rng), new ReLU(),
                new Linear(256, 128, rng: rng), new ReLU(),
                new Linear(128, classes, rng: rng)),
            "lenet5" => WithHead(input, rng, classes, [120, 84],
                new Conv2d(channels, 6, 5, padding: 2, rng: rng), new ReLU(), new MaxPool2d(2),
                new Conv2d(6, 16, 5, rng: rng), new ReLU(), new MaxPool2d(2)),
            "cnn-small" => WithHead(input, rng, classes, [128],
                new Conv2d(channels, 32, 3, padding: 1, rng: rng), new ReLU(), new MaxPool2d(2),
                new Conv2d(32, 64, 3, padding: 1, rng: rng), new ReLU(), new MaxPool2d(2)),
            "cnn-tiny" => WithHead(input, rng, classes, [32],
                new Conv2d(channels, 16, 3, padding: 1, rng: rng), new ReLU(), new MaxPool2d(2),
                new Conv2d(16, 32, 3, padding: 1, rng: rng), new ReLU(), new MaxPool2d(2)),
            "lc-small" => WithHead(input, rng, classes, [128],
                new LocallyConnected2d(channels, 32, (height, width), 3, padding: 1, rng: rng), new ReLU(), new MaxPool2d(2),
                new LocallyConnected2d(32, 64, (height / 2, width / 2), 3, padding: 1, rng: rng), new ReLU(), new MaxPool2d(2)),
            "cnn-bn" => CnnBn(input, rng, classes),
            "resnet8" => ResNet(channels, classes, blocksPerStage: 1, rng),
            "resnet20" => ResNet(channels, classes, blocksPerStage: 3, rng),
            _ => throw new ArgumentException($"Unknown model \"{name}\". Known: {string.Join(", ", Names)}"),
        };
    }

    /// <summary>Feature layers, then Flatten and fully connected layers of the given widths with ReLU between, ending in <paramref name="classes"/>.</summary>
    private static Sequential WithHead(TensorShape input, Rng rng, int classes, int[] hidden, params Module[] features)
    {
        var model = new Sequential(features);
        int flat = FlattenedSize(model, input);
        model.Add(new Flatten());
        foreach (int width in hidden)
        {
            model.Add(new Linear(flat, width, rng: rng)).Add(new ReLU());
            flat = width;
        }
        return model.Add(new Linear(flat, classes, rng: rng));
    }

    /// <summary>Two VGG blocks (32 then 64 channels) of conv3×3-BN-ReLU ×2 + max pool, dropout 0.25, fc 256, dropout 0.5, fc.</summary>
    private static Sequential CnnBn(TensorShape input, Rng rng, int classes)
    {
        var model = new Sequential();
        int c = input[1];
        foreach (int width in new[] { 32, 64 })
        {
            for (int i = 0; i < 2; i++, c = width)
                model.Add(new Conv2d(c, width, 3, padding: 1, bias: false, rng: rng)).Add(new BatchNorm2d(width)).Add(new ReLU());
            model.Add(new MaxPool2d(2));
        }
        model.Add(new Dropout(0.25f, rng));
        int flat = FlattenedSize(model, input);
        return model.Add(new Flatten()).Add(new Linear(flat, 256, rng: rng)).Add(new ReLU())
            .Add(new Dropout(0.5f, rng)).Add(new Linear(256, classes, rng: rng));
    }

    /// <summary>CIFAR-style ResNet-(6n+2): conv3×3 16-BN-ReLU, three stages of n basic blocks (16, 32, 64 channels), global average pool, fc.</summary>
    private static Sequential ResNet(int channels, int classes, int blocksPerStage, Rng rng)
    {
        var model = new Sequential(new Conv2d(channels, 16, 3, padding: 1, bias: false, rng: rng), new BatchNorm2d(16), new ReLU());
        int c = 16;
        foreach (int width in new[] { 16, 32, 64 })
        {
            for (int i = 0; i < blocksPerStage; i++)
            {
                model.Add(new BasicBlock(c, width, stride: i == 0 && width != 16 ? 2 : 1, rng: rng));
                c = width;
            }
        }
        return model.Add(new GlobalAvgPool2d()).Add(new Flatten()).Add(new Linear(64, classes, rng: rng));
    }

    /// <summary>Elements per image after <paramref name="features"/>, found by running a zero image through it without recording.</summary>
    private static int FlattenedSize(Module features, TensorShape input)
    {
        using var _ = features.Inference();
        using var x = Tensor.Zeros(input);
        using var y = features.Forward(x);
        return y.Length;
    }
}
