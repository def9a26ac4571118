#!/usr/bin/python3
"""PyTorch CPU peer of `deno task bench train`: trains the same model on the same data.

Reads the data the Deno side wrote (raw little-endian float32 images NHWC in 0..1, uint8 labels,
and meta.json with the model's layers), builds the same network, trains one epoch with batch
128, Adam(1e-3, eps=1e-7) and cross-entropy, and prints one JSON line: {"imagesPerSecond",
"accuracy", "seconds", "cpuSeconds", "images", "torch", "threads"}.

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


def build(layers, channels, height, width):
    """The network the Deno side describes (its cl.models layers), Keras defaults."""
    modules, c, h, w = [], channels, height, width
    act = {"relu": nn.ReLU, "linear": None, "softmax": None}  # softmax: inside cross_entropy
    for layer in layers:
        kind = layer["kind"]
        if kind == "Conv2D":
            (kh, kw), (sh, sw) = layer["kernel"], layer["strides"]
            same = layer["padding"] == "same"
            if same and (sh, sw) != (1, 1):
                raise ValueError("peer: strided 'same' convolutions are not mirrored")
            modules.append(nn.Conv2d(c, layer["filters"], (kh, kw), (sh, sw),
                                     padding=(kh // 2, kw // 2) if same else 0))
            c = layer["filters"]
            h = h if same else (h - kh) // sh + 1
            w = w if same else (w - kw) // sw + 1
        elif kind == "MaxPooling2D":
            (ph, pw), (sh, sw) = layer["pool"], layer["strides"]
            modules.append(nn.MaxPool2d((ph, pw), (sh, sw)))
            h, w = (h - ph) // sh + 1, (w - pw) // sw + 1
        elif kind == "Dropout":
            modules.append(nn.Dropout(layer["rate"]))
        elif kind == "Flatten":
            modules.append(nn.Flatten())
            c, h, w = c * h * w, 1, 1
        elif kind == "Dense":
            modules.append(nn.Linear(c, layer["units"]))
            c = layer["units"]
        else:
            raise ValueError(f"peer: no {kind} layer")
        activation = act[layer["activation"]] if "activation" in layer else None
        if activation:
            modules.append(activation())
    return keras_init(nn.Sequential(*modules))


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
    ap.add_argument("model", help="name for messages; the layers come from meta.json")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=128)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    meta, xtr, ytr, xte, yte = load(a.data_dir)

    def make():
        return build(meta["layers"], meta["channels"], meta["height"], meta["width"])

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

    epoch(make(), n_batches=3)  # warm-up: allocator, oneDNN primitives
    model = make()
    cpu0 = os.times()
    seconds, seen = epoch(model)
    cpu1 = os.times()
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum())
                      for i in range(0, len(xte), 1000))
    print(json.dumps({
        "imagesPerSecond": seen / seconds, "accuracy": correct / len(xte), "seconds": seconds,
        "cpuSeconds": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system),
        "images": seen, "torch": torch.__version__, "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    sys.exit(main())
