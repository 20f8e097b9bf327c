using System.Diagnostics;
using Fovea.Data;
using Fovea.Nn;
using Fovea.Optim;

namespace Fovea.Training;

/// <summary>
/// The epoch loop: for each batch, forward, cross-entropy, backward, optimizer step and scheduler
/// step (schedulers here count batches); after each epoch, evaluation and the callbacks. The only
/// place in Fovea that knows about epochs. Results depend only on the seeds and the thread count,
/// and a run restored from a <see cref="Checkpoint"/> continues bit for bit.
/// </summary>
public sealed class Trainer
{
    private readonly List<EpochMetrics> _history = [];

    public Trainer(Module model, Optimizer optimizer, LrScheduler? scheduler = null, float labelSmoothing = 0f)
    {
        if (!(labelSmoothing >= 0f && labelSmoothing < 1f)) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"Label smoothing must be in [0, 1). Received: {labelSmoothing}");
        Model = model;
        Optimizer = optimizer;
        Scheduler = scheduler;
        LabelSmoothing = labelSmoothing;
    }

    public Module Model { get; }
    public Optimizer Optimizer { get; }
    public LrScheduler? Scheduler { get; }
    public float LabelSmoothing { get; }
    public List<ITrainingCallback> Callbacks { get; } = [];

    /// <summary>One entry per completed epoch (restored ones included).</summary>
    public IReadOnlyList<EpochMetrics> History => _history;

    public int CompletedEpochs => _history.Count;

    internal void RestoreHistory(IEnumerable<EpochMetrics> history)
    {
        _history.Clear();
        _history.AddRange(history);
    }

    /// <summary>
    /// Trains from epoch <see cref="CompletedEpochs"/> up to <paramref name="epochs"/> (a restored trainer
    /// carries on where it stopped), evaluating on <paramref name="test"/> after each epoch when given.
    /// </summary>
    public IReadOnlyList<EpochMetrics> Fit(DataLoader train, int epochs, DataLoader? test = null, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        for (int epoch = CompletedEpochs; epoch < epochs; epoch++)
        {
            cancellation.ThrowIfCancellationRequested();
            foreach (var callback in Callbacks) callback.OnEpochStart(epoch, epochs);
            var (loss, accuracy, seconds) = TrainEpoch(train, epoch, epochs, cancellation);
            var evaluation = test is null ? null : Evaluate(Model, test);
            var metrics = new EpochMetrics(epoch + 1, loss, accuracy, evaluation?.Loss, evaluation?.Accuracy,
                Optimizer.LearningRate, seconds, train.ImageCount / Math.Max(seconds, 1e-9));
            _history.Add(metrics);
            bool stop = false;
            foreach (var callback in Callbacks) stop |= callback.OnEpochEnd(this, metrics);
            if (stop) break;
        }
        return History;
    }

    private (double Loss, double Accuracy, double Seconds) TrainEpoch(DataLoader loader, int epoch, int epochs, CancellationToken cancellation)
    {
        Model.Train();
        var clock = Stopwatch.StartNew();
        double lossSum = 0;
        long correct = 0, seen = 0;
        int batchIndex = 0, batches = loader.BatchCount;
        foreach (var batch in loader.Epoch(epoch))
        {
            using (batch)
            {
                cancellation.ThrowIfCancellationRequested();
                Optimizer.ZeroGrad();
                var logits = Model.Forward(batch.Images);
                var loss = F.CrossEntropy(logits, batch.Labels, LabelSmoothing);
                lossSum += (double)loss.Item() * batch.Count;
                correct += CountCorrect(logits, batch.Labels);
                seen += batch.Count;
                loss.Backward();
                loss.DisposeGraph();
                Optimizer.Step();
                Scheduler?.Step();
            }
            batchIndex++;
            if (Callbacks.Count > 0)
            {
                double elapsed = clock.Elapsed.TotalSeconds, rate = seen / Math.Max(elapsed, 1e-9);
                var progress = new BatchProgress(epoch + 1, epochs, batchIndex, batches, lossSum / seen, (double)correct / seen, rate,
                    clock.Elapsed, TimeSpan.FromSeconds((loader.ImageCount - seen) / rate));
                foreach (var callback in Callbacks) callback.OnBatchEnd(progress);
            }
        }
        return (seen == 0 ? 0 : lossSum / seen, seen == 0 ? 0 : (double)correct / seen, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Loss, accuracy, per-class accuracy and confusion matrix of <paramref name="model"/> on <paramref name="data"/>, in evaluation mode.</summary>
    public static EvaluationResult Evaluate(Module model, DataLoader data)
    {
        int classes = data.Dataset.ClassCount;
        var confusion = Enumerable.Range(0, classes).Select(_ => new int[classes]).ToArray();
        double lossSum = 0;
        long seen = 0;
        using (model.Inference())
        {
            foreach (var batch in data.Epoch(0))
            {
                using (batch)
                using (var logits = model.Forward(batch.Images))
                {
                    if (logits.Rank != 2 || logits.Shape[1] != classes)
                        throw new ArgumentException($"{model}: produces {logits.Shape} for {batch.Images.Shape}, but the data has {classes} classes: expected [{batch.Count}, {classes}].");
                    using var loss = F.CrossEntropy(logits, batch.Labels, reduction: Reduction.Sum);
                    lossSum += loss.Item();
                    seen += batch.Count;
                    var predicted = ArgMaxRows(logits);
                    for (int i = 0; i < batch.Count; i++) confusion[batch.Labels[i]][predicted[i]]++;
                }
            }
        }
        return new EvaluationResult(seen == 0 ? 0 : lossSum / seen, confusion, data.Dataset.ClassNames);
    }

    /// <summary>The index of the largest value of each row of a [N, C] tensor (the first on ties).</summary>
    public static int[] ArgMaxRows(Tensor logits)
    {
        int n = logits.Shape[0], c = logits.Shape[1];
        var result = new int[n];
        var span = logits.Span;
        for (int i = 0; i < n; i++) result[i] = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(span.Slice(i * c, c));
        return result;
    }

    private static int CountCorrect(Tensor logits, int[] labels)
    {
        var predicted = ArgMaxRows(logits);
        int correct = 0;
        for (int i = 0; i < labels.Length; i++) if (predicted[i] == labels[i]) correct++;
        return correct;
    }
}
