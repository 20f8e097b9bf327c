using System.Text.Json;
using System.Text.Json.Serialization;
using Fovea.Data;
using Fovea.Nn;
using Fovea.Optim;

namespace Fovea.Training;

/// <summary>
/// Everything that defines a training run, as data: the model, the optimizer and schedule, the
/// batches and augmentations, the seed. The CLI's options map onto it, a checkpoint stores it, and
/// <c>--resume</c> rebuilds the same run from it. Schedules count batches.
/// </summary>
public sealed record TrainingRecipe
{
    public static readonly string[] Optimizers = ["sgd", "adam", "adamw"];
    public static readonly string[] Schedules = ["none", "step", "cosine", "onecycle"];

    public string Model { get; init; } = "cnn-small";
    public int Epochs { get; init; } = 5;
    public int BatchSize { get; init; } = 64;

    /// <summary>The peak learning rate (one-cycle's maximum, cosine's start).</summary>
    public double LearningRate { get; init; } = 2e-3;

    public string Optimizer { get; init; } = "adam";
    public string Schedule { get; init; } = "onecycle";
    public double WeightDecay { get; init; }

    /// <summary>SGD's momentum (Nesterov).</summary>
    public double Momentum { get; init; } = 0.9;

    public float LabelSmoothing { get; init; }

    /// <summary>Augmentations in <see cref="Augmentation.Parse"/>'s syntax, e.g. "crop:2,flip,erase"; "none" for none.</summary>
    public string Augment { get; init; } = "none";

    public ulong Seed { get; init; } = 1;

    /// <summary>The data folder (null: the default Fashion-MNIST location), so a resumed run reads the same images.</summary>
    public string? Data { get; init; }

    /// <summary>Train on the first this-many training images only (null: all).</summary>
    public int? Limit { get; init; }

    /// <summary>Input images: channels, height, width; and the number of classes.</summary>
    public int Channels { get; init; } = 1;
    public int Height { get; init; } = 28;
    public int Width { get; init; } = 28;
    public int Classes { get; init; } = 10;

    /// <summary>Per-channel mean and std of pixels/255 the inputs are normalised with.</summary>
    public float[] Mean { get; init; } = [0.2860f];
    public float[] Std { get; init; } = [0.3530f];

    /// <summary>Checks every field, naming the bad one and listing what is allowed.</summary>
    public TrainingRecipe Validate()
    {
        if (!Zoo.Names.Contains(Model)) throw new ArgumentException($"Unknown model \"{Model}\". Known: {string.Join(", ", Zoo.Names)}");
        if (!Optimizers.Contains(Optimizer)) throw new ArgumentException($"Unknown optimizer \"{Optimizer}\". Known: {string.Join(", ", Optimizers)}");
        if (!Schedules.Contains(Schedule)) throw new ArgumentException($"Unknown schedule \"{Schedule}\". Known: {string.Join(", ", Schedules)}");
        if (Epochs < 1) throw new ArgumentException($"Epochs must be at least 1. Received: {Epochs}");
        if (Limit < 1) throw new ArgumentException($"Limit must be at least 1 image. Received: {Limit}");
        if (BatchSize < 1) throw new ArgumentException($"Batch size must be at least 1. Received: {BatchSize}");
        if (!(LearningRate > 0 && double.IsFinite(LearningRate))) throw new ArgumentException($"Learning rate must be positive. Received: {LearningRate}");
        _ = Augmentation.Parse(Augment);
        return this;
    }

    public Module BuildModel() => Zoo.Create(Model, Channels, Height, Width, Classes, new Rng(Seed));

    public Optimizer BuildOptimizer(Module model) => Optimizer switch
    {
        "sgd" => new SGD(model.Parameters(), LearningRate, momentum: Momentum, weightDecay: WeightDecay, nesterov: Momentum > 0),
        "adamw" => new AdamW(model.Parameters(), LearningRate, weightDecay: WeightDecay),
        _ => new Adam(model.Parameters(), LearningRate, weightDecay: WeightDecay),
    };

    /// <summary>The schedule over <see cref="Epochs"/> × <paramref name="batchesPerEpoch"/> steps (null for "none").</summary>
    public LrScheduler? BuildScheduler(Optimizer optimizer, int batchesPerEpoch)
    {
        int total = Epochs * batchesPerEpoch;
        return Schedule switch
        {
            "step" => new StepLR(optimizer, Math.Max(1, total / 3), 0.1),
            "cosine" => new CosineAnnealingLR(optimizer, total),
            "onecycle" => new OneCycleLR(optimizer, LearningRate, total),
            _ => null,
        };
    }

    public Normalization Normalization => new(Mean, Std);

    public DataLoader TrainLoader(ImageDataset data) =>
        new(data, BatchSize, Normalization, shuffle: true, seed: Seed, augmentations: Augmentation.Parse(Augment));

    public DataLoader TestLoader(ImageDataset data) => DataLoader.Ordered(data, 256, Normalization);

    /// <summary>The trainer this recipe describes, with a fresh model.</summary>
    public Trainer BuildTrainer(int batchesPerEpoch)
    {
        var model = BuildModel();
        var optimizer = BuildOptimizer(model);
        return new Trainer(model, optimizer, BuildScheduler(optimizer, batchesPerEpoch), LabelSmoothing);
    }

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TrainingRecipe FromJson(string json) =>
        JsonSerializer.Deserialize<TrainingRecipe>(json, Json) ?? throw new InvalidDataException("Training recipe JSON is empty.");
}
