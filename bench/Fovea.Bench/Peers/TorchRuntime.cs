using System.Runtime.InteropServices;
using TorchSharp;

namespace Fovea.Bench.Peers;

/// <summary>
/// Gets TorchSharp ready once, on first use (so that a run's Fovea-only memory figures are taken
/// before libtorch is loaded): patches the bench's copy of its native shim where needed, then sets
/// its threads to the bench's.
/// </summary>
public static class TorchRuntime
{
    private const string NativeShim = "libLibTorchSharp.so";
    private const string UnusedVersion = "GLIBCXX_3.4.32";
    private static bool _ready;

    /// <summary>Call before anything touches <c>torch</c>; adds what was done to the native library to <paramref name="notes"/>.</summary>
    public static void EnsureReady(int threads, ICollection<string> notes)
    {
        if (_ready) return;
        string patch = PatchShim();
        Console.Error.WriteLine($"TorchSharp: {patch}");
        torch.set_num_threads(threads);
        torch.set_num_interop_threads(1);
        notes.Add($"TorchSharp {typeof(torch).Assembly.GetName().Version?.ToString(3)} (libtorch {torch.__version__}), torch.get_num_threads() = {torch.get_num_threads()}: {patch} " +
                  $"(only std::ios_base_library_init needs it, and nothing calls it; Debian 12's libstdc++ stops at GLIBCXX_3.4.30)");
        _ready = true;
    }

    private static string PatchShim()
    {
        if (!OperatingSystem.IsLinux()) return "no native patch (not Linux)";
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, NativeShim),
            Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", NativeShim),
        ];
        string? path = candidates.FirstOrDefault(File.Exists);
        return path is null
            ? $"{NativeShim} not found next to the bench; TorchSharp may fail to load"
            : WeakVersionPatch.Apply(path, UnusedVersion);
    }
}
