using Fovea.Nn;
using Fovea.Optim;

namespace Fovea.Bench.Workloads;

/// <summary>Fovea's training step exactly as <see cref="Fovea.Training.Trainer"/> runs it, on a fixed batch.</summary>
public sealed class FoveaTraining(Sequential model, BenchBatch batch)
{
    private readonly Adam _optimizer = new(model.Parameters(), lr: 1e-3);

    public Sequential Model => model;

    public void Step()
    {
        _optimizer.ZeroGrad();
        var logits = model.Forward(batch.Images);
        var loss = F.CrossEntropy(logits, batch.Labels);
        loss.Item(); // the trainer reads the loss every step
        loss.Backward();
        loss.DisposeGraph();
        _optimizer.Step();
    }
}
