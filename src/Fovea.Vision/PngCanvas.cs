using SkiaSharp;

namespace Fovea.Vision;

/// <summary>
/// A white raster of a given size to draw on (charts and pictures alike), saved as PNG without ever
/// leaving a half-written file: encode, write a temporary file beside the target, then rename.
/// </summary>
internal sealed class PngCanvas : IDisposable
{
    private readonly SKSurface _surface;

    public PngCanvas(int width, int height)
    {
        if (width < 16 || height < 16 || width > 8192 || height > 8192)
            throw new ArgumentOutOfRangeException(nameof(width), $"PNG size must be 16 to 8192 pixels a side. Received: {width}×{height}");
        Width = width;
        Height = height;
        _surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"SkiaSharp could not create a {width}×{height} surface.");
        Canvas.Clear(SKColors.White);
    }

    public int Width { get; }
    public int Height { get; }
    public SKCanvas Canvas => _surface.Canvas;

    public void Save(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("A PNG file path is needed.", nameof(path));
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        using var image = _surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        string temporary = full + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            data.SaveTo(file);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, full, overwrite: true);
    }

    public void Dispose() => _surface.Dispose();
}
