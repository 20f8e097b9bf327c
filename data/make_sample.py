#!/usr/bin/python3
"""Cuts the bundled Fashion-MNIST sample out of the full set.

Takes the first 600 training images of each class (6000) and the first 100 test images of each
class (1000), keeps their original order, and writes them as gzip IDX files with the original
names into data/fashion-mnist-sample/. Standard library only; gzip timestamps are fixed at 0 so
running it again gives the same bytes.

    /usr/bin/python3 data/make_sample.py [SOURCE_DIR]   (default /usr/share/datasets/fashion-mnist)
"""
import gzip
import os
import struct
import sys

SOURCE = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
TARGET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fashion-mnist-sample")
PER_CLASS = {"train": 600, "t10k": 100}
CLASSES = 10


def read_idx(path, dims):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    if magic != 0x0800 | dims:
        sys.exit(f"{path}: wrong magic 0x{magic:08X}, expected 0x{0x0800 | dims:08X}")
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def write_idx(path, shape, payload):
    header = struct.pack(f">I{len(shape)}I", 0x0800 | len(shape), *shape)
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
        f.write(header + payload)


def cut(split):
    (count, rows, cols), pixels = read_idx(os.path.join(SOURCE, f"{split}-images-idx3-ubyte.gz"), 3)
    (label_count,), labels = read_idx(os.path.join(SOURCE, f"{split}-labels-idx1-ubyte.gz"), 1)
    assert count == label_count, f"{split}: {count} images but {label_count} labels"
    taken, kept = [0] * CLASSES, []
    for i, label in enumerate(labels):
        if taken[label] < PER_CLASS[split]:
            taken[label] += 1
            kept.append(i)
    assert taken == [PER_CLASS[split]] * CLASSES, f"{split}: too few images of some class: {taken}"
    size = rows * cols
    write_idx(os.path.join(TARGET, f"{split}-images-idx3-ubyte.gz"), (len(kept), rows, cols),
              b"".join(pixels[i * size:(i + 1) * size] for i in kept))
    write_idx(os.path.join(TARGET, f"{split}-labels-idx1-ubyte.gz"), (len(kept),), bytes(labels[i] for i in kept))
    print(f"{split}: kept {len(kept)} of {count} images")


os.makedirs(TARGET, exist_ok=True)
for split in PER_CLASS:
    cut(split)
