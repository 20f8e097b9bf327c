using Fovea.Training;
using Spectre.Console;

namespace Fovea.Cli;

/// <summary>
/// Shows a run's progress: a live Spectre.Console bar (epoch, loss, accuracy, images/s, ETA) on a
/// terminal; plain lines, a few per epoch, when the output is a file or a pipe.
/// </summary>
internal sealed class TrainingProgress(IAnsiConsole console) : ITrainingCallback
{
    private ProgressTask? _task;
    private int _lastQuarter;

    public bool Interactive => console.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="training"/> with the bar on screen (or without it when not interactive).</summary>
    public void Run(Action training)
    {
        if (!Interactive)
        {
            training();
            return;
        }
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                _task = context.AddTask("training", maxValue: 1);
                training();
            });
    }

    public void OnEpochStart(int epoch, int epochs) => _lastQuarter = 0;

    public void OnBatchEnd(BatchProgress p)
    {
        string line = $"epoch {p.Epoch}/{p.Epochs}  loss {p.Loss:F4}  acc {p.Accuracy:P1}  {p.ImagesPerSecond:F0} img/s  ETA {p.Remaining:mm\\:ss}";
        if (_task is not null)
        {
            _task.Description = Markup.Escape(line);
            _task.Value = ((p.Epoch - 1) + (double)p.Batch / p.Batches) / p.Epochs;
            return;
        }
        int quarter = 4 * p.Batch / p.Batches;
        if (quarter > _lastQuarter && quarter < 4)
        {
            _lastQuarter = quarter;
            console.WriteLine($"  {line}");
        }
    }

    public bool OnEpochEnd(Trainer trainer, EpochMetrics m)
    {
        string test = m.TestAccuracy is double acc ? $"  test loss {m.TestLoss:F4}  test acc {acc:P2}" : "";
        // A live bar owns the screen while it runs; its caller prints the epoch table afterwards.
        if (_task is null) console.MarkupLine(Markup.Escape($"epoch {m.Epoch}: loss {m.TrainLoss:F4}  acc {m.TrainAccuracy:P2}{test}  {m.Seconds:F1} s  {m.ImagesPerSecond:F0} img/s  lr {m.LearningRate:G3}"));
        return false;
    }
}
