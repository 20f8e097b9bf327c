using System.Globalization;

namespace Fovea.Analysis;

/// <summary>What an <see cref="ImageTransform"/> does to the pixel grid.</summary>
public enum TransformKind
{
    /// <summary>Moves content by whole pixels, filling what is uncovered with zeros.</summary>
    Translation,

    /// <summary>Turns the image by a multiple of 90°, counterclockwise.</summary>
    Rotation,

    /// <summary>Mirrors left and right.</summary>
    HorizontalFlip,

    /// <summary>Mirrors top and bottom.</summary>
    VerticalFlip,
}

/// <summary>
/// A transformation g of NCHW images that maps the pixel grid onto itself: an integer translation
/// with zero fill, a rotation by k·90° (odd k needs square images) or a flip. The same object acts on
/// feature maps (g′ of the equivariance probe): <see cref="OnFeatureMap"/> turns a pixel shift into a
/// shift of feature positions.
/// </summary>
public sealed record ImageTransform
{
    private ImageTransform(TransformKind kind, int dx, int dy, int quarterTurns)
    {
        Kind = kind;
        Dx = dx;
        Dy = dy;
        QuarterTurns = quarterTurns;
    }

    public TransformKind Kind { get; }

    /// <summary>Columns a translation moves content to the right (negative: left).</summary>
    public int Dx { get; }

    /// <summary>Rows a translation moves content down (negative: up).</summary>
    public int Dy { get; }

    /// <summary>Counterclockwise quarter turns of a rotation, 1 to 3.</summary>
    public int QuarterTurns { get; }

    /// <summary>Content at (y, x) moves to (y + <paramref name="dy"/>, x + <paramref name="dx"/>); the uncovered band is zero.</summary>
    public static ImageTransform Translation(int dx, int dy) => new(TransformKind.Translation, dx, dy, 0);

    /// <summary><paramref name="quarterTurns"/> × 90° counterclockwise (torch.rot90 over H, W); any integer, taken modulo 4.</summary>
    public static ImageTransform Rotation(int quarterTurns) => new(TransformKind.Rotation, 0, 0, ((quarterTurns % 4) + 4) % 4);

    public static ImageTransform HorizontalFlip { get; } = new(TransformKind.HorizontalFlip, 0, 0, 0);
    public static ImageTransform VerticalFlip { get; } = new(TransformKind.VerticalFlip, 0, 0, 0);

    /// <summary>Whether the transform swaps height and width, so that only square grids map onto themselves.</summary>
    public bool NeedsSquare => Kind == TransformKind.Rotation && QuarterTurns % 2 == 1;

    /// <summary>Whether the transform mirrors the vertical (y) and horizontal (x) axes: where the grid must be symmetric for g′ to line up.</summary>
    internal (bool Y, bool X) MirroredAxes => Kind switch
    {
        TransformKind.HorizontalFlip => (false, true),
        TransformKind.VerticalFlip => (true, false),
        TransformKind.Rotation when QuarterTurns != 0 => (true, true),
        _ => (false, false),
    };

    /// <summary>Short name for tables and legends: "shift (2, 0)", "rotate 90°", "flip left-right", "flip up-down".</summary>
    public string Name => Kind switch
    {
        TransformKind.Translation => string.Create(CultureInfo.InvariantCulture, $"shift ({Dx}, {Dy})"),
        TransformKind.Rotation => string.Create(CultureInfo.InvariantCulture, $"rotate {QuarterTurns * 90}°"),
        TransformKind.HorizontalFlip => "flip left-right",
        _ => "flip up-down",
    };

    public override string ToString() => Name;

    /// <summary>
    /// The grid position of the original whose value lands at (<paramref name="y"/>, <paramref name="x"/>)
    /// on a <paramref name="height"/>×<paramref name="width"/> grid, or null where the transform fills in a zero.
    /// </summary>
    public (int Y, int X)? Source(int y, int x, int height, int width)
    {
        var (sy, sx) = Kind switch
        {
            TransformKind.Translation => (y - Dy, x - Dx),
            TransformKind.HorizontalFlip => (y, width - 1 - x),
            TransformKind.VerticalFlip => (height - 1 - y, x),
            _ => QuarterTurns switch
            {
                0 => (y, x),
                1 => (x, width - 1 - y),
                2 => (height - 1 - y, width - 1 - x),
                _ => (height - 1 - x, y),
            },
        };
        return sy >= 0 && sy < height && sx >= 0 && sx < width ? (sy, sx) : null;
    }

    /// <summary>
    /// The rows [Top, Bottom] and columns [Left, Right] of a transformed <paramref name="height"/>×<paramref name="width"/>
    /// image that hold original content (all of it except a translation's zero-filled band); empty when Top &gt; Bottom or Left &gt; Right.
    /// </summary>
    public (int Top, int Bottom, int Left, int Right) ContentRegion(int height, int width) => Kind == TransformKind.Translation
        ? (Math.Max(0, Dy), height - 1 + Math.Min(0, Dy), Math.Max(0, Dx), width - 1 + Math.Min(0, Dx))
        : (0, height - 1, 0, width - 1);

    /// <summary>
    /// g′, this transform acting on a feature map whose positions are <paramref name="jumpY"/> × <paramref name="jumpX"/>
    /// pixels apart: a translation's shift is divided by the jump and rounded half away from zero (Exact is false when it
    /// does not divide); rotations and flips act on the feature grid as they do on the pixel grid.
    /// </summary>
    public (ImageTransform Transform, bool Exact) OnFeatureMap(int jumpY, int jumpX)
    {
        if (jumpY < 1 || jumpX < 1) throw new ArgumentOutOfRangeException(nameof(jumpY), $"{Name}: feature map jumps must be positive. Received: ({jumpY}, {jumpX})");
        if (Kind != TransformKind.Translation) return (this, true);
        return (Translation(RoundedQuotient(Dx, jumpX), RoundedQuotient(Dy, jumpY)), Dx % jumpX == 0 && Dy % jumpY == 0);
    }

    private static int RoundedQuotient(int shift, int jump) => (int)Math.Round((double)shift / jump, MidpointRounding.AwayFromZero);

    /// <summary>g applied to every channel of every image of an [N, C, H, W] tensor; a new tensor, not recorded for autograd.</summary>
    /// <exception cref="ArgumentException">Not rank 4, or a quarter turn of a non-square image.</exception>
    public Tensor Apply(Tensor images)
    {
        if (images.Rank != 4) throw new ArgumentException($"{Name}: expected images [N, C, H, W]. Received: {images.Shape}");
        int planes = images.Shape[0] * images.Shape[1], height = images.Shape[2], width = images.Shape[3];
        if (NeedsSquare && height != width) throw new ArgumentException($"{Name}: needs square images. Received: {images.Shape}");
        var sourceIndex = new int[height * width]; // −1: zero fill
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                sourceIndex[y * width + x] = Source(y, x, height, width) is { } s ? s.Y * width + s.X : -1;
        var result = Tensor.Empty(images.Shape);
        var from = images.Span;
        var to = result.Span;
        int plane = height * width;
        for (int p = 0; p < planes; p++)
        {
            var source = from.Slice(p * plane, plane);
            var target = to.Slice(p * plane, plane);
            for (int i = 0; i < plane; i++) target[i] = sourceIndex[i] < 0 ? 0f : source[sourceIndex[i]];
        }
        return result;
    }
}
