namespace Fovea;

/// <summary>
/// Zero padding of a 2-D window op: explicit amounts per axis, or "same" (output as large as the
/// input, PyTorch's <c>padding='same'</c>, which needs stride 1). Converts implicitly from an int
/// (<c>padding: 1</c>), a pair (<c>padding: (1, 2)</c>, height then width) and PyTorch's strings
/// (<c>padding: "same"</c>, <c>padding: "valid"</c>), so calls read like their PyTorch originals.
/// <c>default</c> is no padding.
/// </summary>
public readonly record struct Padding2d
{
    public Padding2d(int height, int width)
    {
        Height = height;
        Width = width;
    }

    private Padding2d(bool same) => IsSame = same;

    /// <summary>Rows of zeros above and below the input (explicit padding only).</summary>
    public int Height { get; }

    /// <summary>Columns of zeros left and right of the input (explicit padding only).</summary>
    public int Width { get; }

    /// <summary>Whether the amounts are derived from the kernel so that output size = input size.</summary>
    public bool IsSame { get; }

    /// <summary>PyTorch's 'same': total padding dilation·(k − 1) per axis, the odd one extra at the bottom/right.</summary>
    public static Padding2d Same => new(same: true);

    /// <summary>PyTorch's 'valid': no padding.</summary>
    public static Padding2d Valid => default;

    public static implicit operator Padding2d(int padding) => new(padding, padding);

    public static implicit operator Padding2d((int Height, int Width) padding) => new(padding.Height, padding.Width);

    /// <summary>PyTorch's spelling; anything but "same" or "valid" throws, naming the accepted values.</summary>
    public static implicit operator Padding2d(string padding) => Parse(padding);

    public static Padding2d Parse(string padding) => (padding ?? throw new ArgumentNullException(nameof(padding))).ToLowerInvariant() switch
    {
        "same" => Same,
        "valid" => Valid,
        _ => throw new ArgumentException($"Padding must be \"same\", \"valid\" or a number of pixels. Received: \"{padding}\""),
    };

    /// <summary>
    /// (top, bottom, left, right) for a kernel; "same" puts the odd pixel at the bottom/right as PyTorch does.
    /// </summary>
    public (int Top, int Bottom, int Left, int Right) Resolve((int Height, int Width) kernel, (int Height, int Width) dilation)
    {
        if (!IsSame) return (Height, Height, Width, Width);
        int totalH = dilation.Height * (kernel.Height - 1), totalW = dilation.Width * (kernel.Width - 1);
        return (totalH / 2, totalH - totalH / 2, totalW / 2, totalW - totalW / 2);
    }

    /// <summary>"same", "1" or "(1, 2)": the form used in layer descriptions.</summary>
    public override string ToString() => IsSame ? "same" : Height == Width ? $"{Height}" : $"({Height}, {Width})";
}
