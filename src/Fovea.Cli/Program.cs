using System.CommandLine;
using Fovea.Cli.Commands;

var root = new RootCommand("fovea: train, evaluate and analyse convolutional neural networks in pure .NET.")
{
    TrainCommand.Create(),
    EvalCommand.Create(),
    PredictCommand.Create(),
    SummaryCommand.Create(),
    AnalyzeCommand.Create(),
    InferCommand.Create(),
    EquivarianceCommand.Create(),
    DemoCommand.Create(),
    ExportCommand.Create(),
    RunCommand.Create(),
    OnnxTestCommand.Create(),
};
return root.Parse(args).Invoke();
