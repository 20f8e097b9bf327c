using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Fovea.Analysis;
using Fovea.Data;
using Fovea.Nn;
using Fovea.Training;
using Spectre.Console;

namespace Fovea.Cli.Commands;

/// <summary><c>fovea train</c>: trains a zoo model on a data folder, checkpointing every epoch.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var defaults = new TrainingRecipe();
        var model = new Option<string>("--model") { Description = $"Model: {string.Join(", ", Zoo.Names)}.", DefaultValueFactory = _ => defaults.Model };
        var data = DataOptions.Create();
        var epochs = new Option<int>("--epochs") { Description = "Epochs to train.", DefaultValueFactory = _ => defaults.Epochs };
        var batchSize = new Option<int>("--batch-size") { Description = "Images per batch.", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd (Nesterov momentum 0.9), adam or adamw.", DefaultValueFactory = _ => defaults.Optimizer };
        var schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule over all batches: none, step, cosine or onecycle.", DefaultValueFactory = _ => defaults.Schedule };
        var weightDecay = new Option<double>("--weight-decay") { Description = "Weight decay (decoupled for adamw).", DefaultValueFactory = _ => defaults.WeightDecay };
        var labelSmoothing = new Option<float>("--label-smoothing") { Description = "Cross-entropy label smoothing.", DefaultValueFactory = _ => defaults.LabelSmoothing };
        var augment = new Option<string>("--augment") { Description = "Augmentations, e.g. crop:2,flip,translate:2,erase; none for none.", DefaultValueFactory = _ => defaults.Augment };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation, shuffling, augmentation and dropout.", DefaultValueFactory = _ => defaults.Seed };
        var threads = new Option<int>("--threads") { Description = "Threads for the kernels (default: all cores).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var limit = new Option<int?>("--limit") { Description = "Train on the first N training images only (quick runs)." };
        var patience = new Option<int?>("--patience") { Description = "Stop after this many epochs without a lower test loss." };
        var output = new Option<string?>("--out") { Description = "Checkpoint written after every epoch. Default: fovea-MODEL.safetensors." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this checkpoint, with its recipe (model, optimizer, schedule, data, seed…)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout (progress goes to stderr)." };
        Option[] recipeOptions = [model, epochs, batchSize, lr, optimizer, schedule, weightDecay, labelSmoothing, augment, seed, limit];

        var command = new Command("train", "Train a model, with a live progress bar and a checkpoint after every epoch.")
        {
            model, data, epochs, batchSize, lr, optimizer, schedule, weightDecay, labelSmoothing, augment, seed, threads, limit, patience, output, resume, json,
        };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            bool asJson = parse.GetValue(json);
            var console = CommandRunner.Human(asJson);
            Parallelism.Threads = parse.GetValue(threads);
            string? resumeFrom = parse.GetValue(resume);
            TrainingRecipe recipe;
            if (resumeFrom is not null)
            {
                var given = recipeOptions.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
                if (given.Count > 0) throw new ArgumentException($"--resume continues the recipe saved in {resumeFrom}; drop {string.Join(", ", given)}.");
                recipe = TrainingRecipe.FromJson(Checkpoint.ReadRecipe(resumeFrom) ?? throw new InvalidDataException($"{resumeFrom}: the checkpoint holds no recipe."));
            }
            else
            {
                recipe = new TrainingRecipe
                {
                    Model = parse.GetValue(model)!, Epochs = parse.GetValue(epochs), BatchSize = parse.GetValue(batchSize),
                    LearningRate = parse.GetValue(lr), Optimizer = parse.GetValue(optimizer)!, Schedule = parse.GetValue(schedule)!,
                    WeightDecay = parse.GetValue(weightDecay), LabelSmoothing = parse.GetValue(labelSmoothing), Augment = parse.GetValue(augment)!,
                    Seed = parse.GetValue(seed), Limit = parse.GetValue(limit),
                    Data = parse.GetValue(data) is string folder ? Path.GetFullPath(folder) : null,
                }.Validate(); // a misspelt option fails before the data is read
            }
            var (train, test) = DataOptions.Load(parse.GetValue(data) ?? recipe.Data, console);
            if (recipe.Limit is int n) train = train.Take(n);
            if (resumeFrom is null)
            {
                var stats = Normalization.Compute(train);
                recipe = recipe with
                {
                    Channels = train.Channels, Height = train.Height, Width = train.Width, Classes = train.ClassCount,
                    Mean = [.. stats.Mean], Std = [.. stats.Std],
                };
            }
            recipe.Validate();
            CheckFits(recipe, train);
            string checkpoint = parse.GetValue(output) ?? resumeFrom ?? $"fovea-{recipe.Model}.safetensors";
            var result = Train(recipe, train, test, checkpoint, resumeFrom, parse.GetValue(patience), console);
            if (asJson) CommandRunner.WriteJson(result);
            return CommandRunner.Ok;
        }));
        return command;
    }

    /// <summary>A model that cannot take the data's images fails here, before any training, naming the layer and both shapes.</summary>
    public static void CheckFits(TrainingRecipe recipe, ImageDataset data)
    {
        try
        {
            ModelSummary.Of(recipe.BuildModel(), data.Channels, data.Height, data.Width);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Model {recipe.Model} does not fit the data's {data.Channels}×{data.Height}×{data.Width} images: {e.Message}", e);
        }
    }

    /// <summary>Runs the recipe with progress and a checkpoint per epoch; returns the JSON result the README documents.</summary>
    public static JsonObject Train(TrainingRecipe recipe, ImageDataset train, ImageDataset test, string checkpoint, string? resumeFrom, int? patience, IAnsiConsole console)
    {
        var trainLoader = recipe.TrainLoader(train);
        var testLoader = recipe.TestLoader(test);
        var trainer = recipe.BuildTrainer(trainLoader.BatchCount);
        if (resumeFrom is not null)
        {
            Checkpoint.Restore(resumeFrom, trainer);
            console.MarkupLine($"[grey]Resuming {Markup.Escape(recipe.Model)} after epoch {trainer.CompletedEpochs} of {recipe.Epochs} from {Markup.Escape(resumeFrom)}[/]");
        }
        var progress = new TrainingProgress(console);
        trainer.Callbacks.Add(progress);
        trainer.Callbacks.Add(new CheckpointCallback(checkpoint, recipe.ToJson()));
        if (patience is int p) trainer.Callbacks.Add(new EarlyStopping(p));

        console.MarkupLine($"[bold]Training {Markup.Escape(recipe.Model)}[/] ({trainer.Model.ParameterCount():N0} parameters) for {recipe.Epochs} epochs: " +
            Markup.Escape($"{recipe.Optimizer} lr {recipe.LearningRate:G3}, {recipe.Schedule} schedule, batch {recipe.BatchSize}, augment {recipe.Augment}, seed {recipe.Seed}, {Parallelism.Threads} threads"));
        var clock = Stopwatch.StartNew();
        int before = trainer.CompletedEpochs;
        progress.Run(() => trainer.Fit(trainLoader, recipe.Epochs, testLoader));
        double seconds = trainer.History.Skip(before).Sum(h => h.Seconds);
        var final = Trainer.Evaluate(trainer.Model, testLoader);
        if (progress.Interactive) ShowHistory(console, trainer);
        console.MarkupLine($"[bold]Test accuracy {final.Accuracy:P2}[/], test loss {final.Loss:F4}; trained in {seconds:F1} s ({clock.Elapsed.TotalSeconds:F1} s with evaluation); checkpoint: {Markup.Escape(checkpoint)}");
        return new JsonObject
        {
            ["model"] = recipe.Model,
            ["epochs"] = trainer.CompletedEpochs,
            ["train_seconds"] = Math.Round(seconds, 3),
            ["images_per_second"] = Math.Round((trainer.CompletedEpochs - before) * (double)trainLoader.ImageCount / Math.Max(seconds, 1e-9), 1),
            ["test_accuracy"] = final.Accuracy,
            ["test_loss"] = final.Loss,
            ["params"] = trainer.Model.ParameterCount(),
            ["checkpoint"] = Path.GetFullPath(checkpoint),
        };
    }

    private static void ShowHistory(IAnsiConsole console, Trainer trainer)
    {
        var table = new Table().AddColumns("epoch", "loss", "accuracy", "test loss", "test accuracy", "seconds", "img/s", "lr");
        foreach (var m in trainer.History)
            table.AddRow($"{m.Epoch}", $"{m.TrainLoss:F4}", $"{m.TrainAccuracy:P2}", $"{m.TestLoss:F4}", $"{m.TestAccuracy:P2}", $"{m.Seconds:F1}", $"{m.ImagesPerSecond:F0}", $"{m.LearningRate:G3}");
        console.Write(table);
    }
}
