using System.Diagnostics;
using Fovea.Nn;
using Fovea.Serialization;
using Fovea.Tests.Support;
using Fovea.Training;

namespace Fovea.Tests.Cli;

/// <summary>
/// SIGKILL during a checkpoint save leaves the previous checkpoint loadable, and --resume from it
/// reaches bitwise the same final weights as a run that was never interrupted.
/// </summary>
public class CliCheckpointKillTests
{
    // lc-small's checkpoint (weights and Adam's two moments) is about 46 MB, so each save takes a while
    // and the loop below, watching for the temporary file, catches the process in the middle of one.
    private static readonly string[] Recipe =
        ["train", "--model", "lc-small", "--limit", "64", "--batch-size", "32", "--epochs", "6", "--seed", "4", "--threads", "1"];

    [Fact]
    public void KillingMidSaveKeepsThePreviousCheckpointAndResumingMatchesAnUninterruptedRun()
    {
        using var folder = new TempFolder();
        string[] Args(string output, params string[] extra) => [.. Recipe, "--data", FoveaProcess.SampleData, "--out", output, .. extra];

        var straight = FoveaProcess.Run(folder.Path, Args("straight.safetensors"));
        Assert.True(straight.Exit == 0, straight.Stderr);

        string killed = folder.File("killed.safetensors");
        // Polling can miss every save of a run on a busy machine; a fresh run gets another chance.
        bool caught = false;
        for (int attempt = 0; attempt < 3 && !caught; attempt++)
        {
            File.Delete(killed);
            caught = KillDuringASave(folder.Path, Args("killed.safetensors"));
        }
        Assert.True(caught, "the training process was never caught saving a checkpoint in three runs");
        int completed = Checkpoint.ReadRecipe(killed) is not null ? CompletedEpochs(killed) : -1;
        Assert.InRange(completed, 1, 5);
        ModelFile.Load(killed); // the previous checkpoint is whole

        var resumed = FoveaProcess.Run(folder.Path, "train", "--resume", killed, "--data", FoveaProcess.SampleData, "--threads", "1");
        Assert.True(resumed.Exit == 0, resumed.Stderr);
        Assert.Equal(Weights(folder.File("straight.safetensors")), Weights(killed));
    }

    /// <summary>Starts the run, waits for its first checkpoint, then SIGKILLs it while a later save's temporary file exists.</summary>
    private static bool KillDuringASave(string folder, string[] args)
    {
        using var process = Process.Start(FoveaProcess.StartInfo(folder, args))!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        var deadline = Stopwatch.StartNew();
        bool sawCheckpoint = false;
        while (!process.HasExited && deadline.Elapsed < TimeSpan.FromMinutes(2))
        {
            sawCheckpoint |= File.Exists(Path.Combine(folder, "killed.safetensors"));
            if (sawCheckpoint && Directory.EnumerateFiles(folder, ".killed.safetensors.*.tmp").Any())
            {
                process.Kill(); // SIGKILL on Linux: no finally blocks, no flushing
                process.WaitForExit();
                return true;
            }
            Thread.Sleep(1);
        }
        if (!process.HasExited) process.Kill();
        return false;
    }

    private static int CompletedEpochs(string path) =>
        System.Text.Json.Nodes.JsonNode.Parse(SafeTensors.Load(path).Metadata[Checkpoint.StateKey])!["completed_epochs"]!.GetValue<int>();

    private static float[] Weights(string path)
    {
        var model = ModelFile.Load(path);
        return model.StateDict().Values.SelectMany(t => t.ToArray()).ToArray();
    }
}
