#!/usr/bin/python3
"""PyTorch CPU peer of `deno task bench train`: trains the same model on the same data.

Reads the data the Deno side wrote (raw little-endian float32 images NHWC in 0..1, uint8 labels,
and meta.json), trains one epoch with batch 128, Adam(1e-3, eps=1e-7) and cross-entropy, and
prints one JSON line: {"imagesPerSecond", "accuracy", "seconds", "images", "torch", "threads"}.

Run it with Debian's /usr/bin/python3 (python3-torch) and OPENBLAS_NUM_THREADS=1: Debian's torch
links a threaded OpenBLAS whose threads fight torch's own and halve its speed otherwise.

usage: train_torch.py DATA_DIR MODEL [--threads 2] [--seed 0]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def keras_init(model):
    """Keras defaults: glorot-uniform kernels, zero biases."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def lenet5(channels):
    # The course's LeNet-5: Conv 6@5x5 same, pool, Conv 16@5x5, pool, Conv 120@5x5, Dense 84, 10.
    return keras_init(nn.Sequential(
        nn.Conv2d(channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(16, 120, 5), nn.ReLU(), nn.Flatten(),
        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)))


def cifar_cnn(channels):
    # The course's CIFAR CNN (8-2).
    return keras_init(nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(64 * 6 * 6, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, 10)))


def load(data_dir):
    with open(os.path.join(data_dir, "meta.json")) as f:
        meta = json.load(f)
    h, w, c = meta["height"], meta["width"], meta["channels"]

    def images(name, n):
        x = np.fromfile(os.path.join(data_dir, name), dtype="<f4").reshape(n, h, w, c)
        return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

    def labels(name):
        return torch.from_numpy(np.fromfile(os.path.join(data_dir, name), dtype=np.uint8).astype(np.int64))

    return (meta, images("x_train.f32", meta["train"]), labels("y_train.u8"),
            images("x_test.f32", meta["test"]), labels("y_test.u8"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("model", choices=["lenet5", "cifar"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=128)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    meta, xtr, ytr, xte, yte = load(a.data_dir)
    make = lenet5 if a.model == "lenet5" else cifar_cnn
    bs = a.batch_size

    def epoch(model, n_batches=None):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        model.train()
        perm = torch.randperm(len(xtr))
        nb = (len(xtr) + bs - 1) // bs if n_batches is None else n_batches
        seen = 0
        t0 = time.perf_counter()
        for i in range(nb):
            idx = perm[i * bs:(i + 1) * bs]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            seen += len(idx)
        return time.perf_counter() - t0, seen

    epoch(make(meta["channels"]), n_batches=3)  # warm-up: allocator, oneDNN primitives
    model = make(meta["channels"])
    seconds, seen = epoch(model)
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum())
                      for i in range(0, len(xte), 1000))
    print(json.dumps({
        "imagesPerSecond": seen / seconds, "accuracy": correct / len(xte), "seconds": seconds,
        "images": seen, "torch": torch.__version__, "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    sys.exit(main())
