namespace Fovea.Data;

/// <summary>Moves image content by whole pixels in place, filling what is uncovered with zeros.</summary>
internal static class ImageShift
{
    /// <summary>The pixel at (y, x) moves to (y + <paramref name="dy"/>, x + <paramref name="dx"/>) in every channel.</summary>
    public static void Shift(Span<float> image, int channels, int height, int width, int dy, int dx)
    {
        if (dy == 0 && dx == 0) return;
        int plane = height * width;
        for (int c = 0; c < channels; c++)
        {
            var p = image.Slice(c * plane, plane);
            // Walk rows away from the direction of motion so every source row is read before it is overwritten.
            for (int k = 0; k < height; k++)
            {
                int y = dy > 0 ? height - 1 - k : k, from = y - dy;
                var row = p.Slice(y * width, width);
                if (from < 0 || from >= height || Math.Abs(dx) >= width)
                {
                    row.Clear();
                    continue;
                }
                var source = p.Slice(from * width, width);
                if (dx >= 0)
                {
                    source[..(width - dx)].CopyTo(row[dx..]); // CopyTo handles the overlap when from == y
                    row[..dx].Clear();
                }
                else
                {
                    source[-dx..].CopyTo(row[..(width + dx)]);
                    row[(width + dx)..].Clear();
                }
            }
        }
    }
}
