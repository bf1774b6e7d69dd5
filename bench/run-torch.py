# PyTorch on the CPU: the same SimpleConvNet (conv 30x5x5, relu, maxpool 2x2, fc 100, relu,
# fc 10), Adam, batch 100, in its fastest setting on this machine: torch.set_num_threads(2) and
# OPENBLAS_NUM_THREADS=1 (set by bench.mjs, which also unsets OPENBLAS_CORETYPE / L2_SIZE).
# Reads MNIST batches written by bench.mjs (raw float32 / int32 files) so both see the same data.
import json, sys, time, statistics
import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
torch.manual_seed(0)
d = sys.argv[1]
train_x = torch.from_numpy(np.fromfile(d + '/train_x.f32', dtype=np.float32).reshape(-1, 1, 28, 28))
train_t = torch.from_numpy(np.fromfile(d + '/train_t.i32', dtype=np.int32).astype(np.int64))
test_x = torch.from_numpy(np.fromfile(d + '/test_x.f32', dtype=np.float32).reshape(-1, 1, 28, 28))
test_t = torch.from_numpy(np.fromfile(d + '/test_t.i32', dtype=np.int32).astype(np.int64))

net = nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
                    nn.Linear(4320, 100), nn.ReLU(), nn.Linear(100, 10))
opt = torch.optim.Adam(net.parameters(), lr=0.001, eps=1e-7)
lossf = nn.CrossEntropyLoss()
B = 100
nb = train_x.shape[0] // B
xs = [train_x[i * B:(i + 1) * B].contiguous() for i in range(nb)]
ts = [train_t[i * B:(i + 1) * B].contiguous() for i in range(nb)]

def step(i):
    k = i % nb
    opt.zero_grad(set_to_none=True)
    loss = lossf(net(xs[k]), ts[k])
    loss.backward()
    opt.step()

for i in range(10):
    step(i)
times = []
for i in range(60):
    t0 = time.perf_counter()
    step(i)
    times.append((time.perf_counter() - t0) * 1000)

runs = []
with torch.no_grad():
    for r in range(4):
        t0 = time.perf_counter()
        correct = 0
        for s in range(0, test_x.shape[0], B):
            correct += int((net(test_x[s:s + B]).argmax(1) == test_t[s:s + B]).sum())
        if r > 0:
            runs.append(time.perf_counter() - t0)
print('RESULT ' + json.dumps({'stepMs': statistics.median(times), 'imagesPerSec': test_x.shape[0] / statistics.median(runs),
                              'version': torch.__version__, 'threads': torch.get_num_threads()}))
