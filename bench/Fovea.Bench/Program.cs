using Fovea;
using Fovea.Bench;
using Fovea.Bench.Report;
using Fovea.Bench.Sections;

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

Parallelism.Threads = options.Threads;
var report = new BenchReport(MachineInfo.Current(), options);
var context = new BenchContext(options, report);
Console.Error.WriteLine($"Fovea bench: --threads {options.Threads}, sections {string.Join(", ", BenchOptions.AllSections.Where(options.Runs))}{(options.Quick ? " (quick)" : "")}");

// Memory goes first: its peak working set must be taken before libtorch and ONNX Runtime are loaded.
if (options.Runs("memory")) MemorySection.Run(context);
if (options.Runs("train")) TrainingSection.Run(context);
if (options.Runs("infer")) InferenceSection.Run(context);
if (options.Runs("import")) ImportSection.Run(context);
if (options.Runs("kernels")) KernelSection.Run(context);
if (options.Runs("infer")) report.Notes.Add($"ONNX Runtime {Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString()}: intra-op threads = {options.Threads}, sequential, all graph optimisations; graphs written by the bench (opset 13) from Fovea's weights");

report.LoadAtEnd = LoadAverage.Read();
if (options.Json) JsonReport.Write(report);
else TableReport.Write(report, options.Markdown);
return 0;
