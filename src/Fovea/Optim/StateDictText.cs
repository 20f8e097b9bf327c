using System.Globalization;

namespace Fovea.Optim;

/// <summary>
/// The text side of optimizer and scheduler state dicts: values are strings so that they fit a
/// safetensors header's metadata, written so that they read back to the same bits.
/// </summary>
internal static class StateDictText
{
    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
    public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
    public static string Format(bool value) => value ? "true" : "false";

    public static string Require(IReadOnlyDictionary<string, string> state, string key, string owner) =>
        state.TryGetValue(key, out var value) ? value : throw new ArgumentException($"{owner}.LoadStateDict: the state has no '{key}' entry.");

    public static double RequireDouble(IReadOnlyDictionary<string, string> state, string key, string owner)
    {
        var text = Require(state, key, owner);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"{owner}.LoadStateDict: '{key}' is not a number. Received: '{text}'");
    }

    public static long RequireLong(IReadOnlyDictionary<string, string> state, string key, string owner)
    {
        var text = Require(state, key, owner);
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw new ArgumentException($"{owner}.LoadStateDict: '{key}' is not a non-negative integer. Received: '{text}'");
    }

    /// <summary>
    /// Throws unless <paramref name="state"/> was written by the same kind of object
    /// (<paramref name="expected"/>["type"]) with the same configuration: every entry of
    /// <paramref name="expected"/> must be in the state with the same text. Resuming under a different
    /// configuration would silently continue a different run.
    /// </summary>
    public static void CheckSameConfiguration(IReadOnlyDictionary<string, string> expected, IReadOnlyDictionary<string, string> state, string owner)
    {
        var savedType = Require(state, "type", owner);
        if (savedType != expected["type"]) throw new ArgumentException($"{owner}.LoadStateDict: the state was saved by {savedType}, not {expected["type"]}.");
        foreach (var (key, value) in expected)
        {
            var saved = Require(state, key, owner);
            if (saved != value) throw new ArgumentException($"{owner}.LoadStateDict: {key} is {value} here but {saved} in the state.");
        }
    }
}
