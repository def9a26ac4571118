"""The course's CIFAR CNN (8-2) in PyTorch on Convlab's CIFAR-10 stand-in: the peer measurement of
`deno task bench cifar_standin --torch`. Args: folder with xtr.u8/ytr.u8/xte.u8/yte.u8, epochs,
"augment" or "plain". Keras's settings: Adam 1e-3, batch 128, Glorot-uniform weights, zero bias."""
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(1)
rng = np.random.default_rng(1)
folder, epochs, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def load(name, shape):
    return np.fromfile(f"{folder}/{name}.u8", np.uint8).reshape(shape)


x_train = torch.tensor(load("xtr", (-1, 32, 32, 3))).permute(0, 3, 1, 2).float() / 255
x_test = torch.tensor(load("xte", (-1, 32, 32, 3))).permute(0, 3, 1, 2).float() / 255
y_train = torch.tensor(load("ytr", (-1,)).astype(np.int64))
y_test = torch.tensor(load("yte", (-1,)).astype(np.int64))


class CifarCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(3, 32, 3), nn.Conv2d(32, 32, 3)
        self.c3, self.c4 = nn.Conv2d(32, 64, 3), nn.Conv2d(64, 64, 3)
        self.f1, self.f2 = nn.Linear(64 * 5 * 5, 512), nn.Linear(512, 10)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.dropout(F.max_pool2d(F.relu(self.c2(F.relu(self.c1(x)))), 2), 0.25, self.training)
        x = F.dropout(F.max_pool2d(F.relu(self.c4(F.relu(self.c3(x)))), 2), 0.25, self.training)
        x = F.dropout(F.relu(self.f1(x.flatten(1))), 0.5, self.training)
        return self.f2(x)


def augment(x):
    """Shifts up to 20 % (6 px, reflected border) and horizontal flips, per image."""
    n = x.shape[0]
    flip = torch.rand(n) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (6, 6, 6, 6), mode="reflect")
    dx, dy = rng.integers(0, 13, n), rng.integers(0, 13, n)
    return torch.stack([padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32] for i in range(n)])


model = CifarCnn()
optimizer = torch.optim.Adam(model.parameters(), 1e-3, eps=1e-7)
for epoch in range(1, epochs + 1):
    started = time.time()
    model.train()
    order = torch.randperm(len(x_train))
    for b in range(0, len(x_train), 128):
        idx = order[b:b + 128]
        xb = augment(x_train[idx]) if mode == "augment" else x_train[idx]
        optimizer.zero_grad()
        F.cross_entropy(model(xb), y_train[idx]).backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    rate = len(x_train) / (time.time() - started)
    print(f"torch cpu {mode} epoch {epoch}: test accuracy {accuracy:.3f} ({rate:.0f} images/s)",
          flush=True)
