"""PyTorch baseline for `npm run bench -- cnn`: Caffe's LeNet and solver, batch 64, one thread.

Prints one JSON line: training images/s (wall and per CPU-second) and inference images/s, measured
on random inputs in [0, 1) (throughput does not depend on the pixel values). The net and solver match
cnn/examples/mnist/lenet_train_test.prototxt and lenet_solver.prototxt: conv 20@5x5, max-pool 2,
conv 50@5x5, max-pool 2, inner product 500, ReLU, inner product 10, softmax loss; SGD with momentum
0.9, weight decay 5e-4, Caffe's "inv" learning-rate policy.

    python3 bench/baselines/pytorch_lenet.py SECONDS
    python3 bench/baselines/pytorch_lenet.py --accuracy 1,5 [FASHION_DIR]   test accuracy after epochs
"""
import gzip
import json
import os
import sys
import time

import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed(1)
accuracy_epochs = None
if len(sys.argv) > 2 and sys.argv[1] == '--accuracy':
    accuracy_epochs = [int(e) for e in sys.argv[2].split(',')]
    fashion = sys.argv[3] if len(sys.argv) > 3 else '/usr/share/datasets/fashion-mnist'
    seconds = 0.0
else:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
batch = 64

net = nn.Sequential(
    nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2),
    nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2),
    nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10),
)
# Caffe's lr_mult 2 for biases is kept as a separate parameter group.
weights = [p for n, p in net.named_parameters() if n.endswith('weight')]
biases = [p for n, p in net.named_parameters() if n.endswith('bias')]
opt = torch.optim.SGD([{'params': weights}, {'params': biases, 'lr': 0.02, 'weight_decay': 0}],
                      lr=0.01, momentum=0.9, weight_decay=5e-4)
base = [g['lr'] for g in opt.param_groups]
loss_fn = nn.CrossEntropyLoss()
x = torch.rand(batch, 1, 28, 28)
y = torch.randint(0, 10, (batch,))


def train_step(it):
    for g, lr in zip(opt.param_groups, base):
        g['lr'] = lr * (1 + 0.0001 * it) ** -0.75
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(net(x), y)
    loss.backward()
    opt.step()




def idx(path, header):
    with gzip.open(path, 'rb') as f:
        return torch.frombuffer(bytearray(f.read()[header:]), dtype=torch.uint8)


if accuracy_epochs:
    # Caffe's Data layer: scale 1/256, shuffled each epoch; test on the 10,000 test images.
    xs = idx(os.path.join(fashion, 'train-images-idx3-ubyte.gz'), 16).float().mul_(0.00390625).view(-1, 1, 28, 28)
    ys = idx(os.path.join(fashion, 'train-labels-idx1-ubyte.gz'), 8).long()
    xt = idx(os.path.join(fashion, 't10k-images-idx3-ubyte.gz'), 16).float().mul_(0.00390625).view(-1, 1, 28, 28)
    yt = idx(os.path.join(fashion, 't10k-labels-idx1-ubyte.gz'), 8).long()
    out, it = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batch': batch}, 0
    for epoch in range(1, max(accuracy_epochs) + 1):
        order = torch.randperm(xs.shape[0])
        for b in range(0, xs.shape[0] - batch + 1, batch):
            x, y = xs[order[b:b + batch]], ys[order[b:b + batch]]
            train_step(it)
            it += 1
        if epoch in accuracy_epochs:
            with torch.no_grad():
                correct = sum((net(xt[i:i + 100]).argmax(1) == yt[i:i + 100]).sum().item() for i in range(0, 10000, 100))
            out['accuracy_epoch_%d' % epoch] = correct / 10000
    print(json.dumps(out))
    sys.exit(0)

for it in range(20):  # warm-up
    train_step(it)
iters, wall0, cpu0 = 0, time.perf_counter(), time.process_time()
while time.perf_counter() - wall0 < seconds:
    train_step(20 + iters)
    iters += 1
wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0

with torch.no_grad():
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds / 2:
        net(x)
        n += 1
    infer = n * batch / (time.perf_counter() - t0)

print(json.dumps({
    'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batch': batch,
    'train': iters * batch / wall, 'trainPerCpuSecond': iters * batch / cpu, 'inference': infer,
}))
