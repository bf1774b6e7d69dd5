# PyTorch twin of any scratchnet network, built from its spec (scratchnet models NAME --json):
# the same layers with the same sizes, Adam, batch 100, random 1x28x28 input - what
# bench/run-zoo-step.mjs times on scratchnet's side. Prints one RESULT line (median step and
# inference batch, ms). Fastest setting here: torch.set_num_threads(2), OPENBLAS_NUM_THREADS=1.
#   python3 bench/run-torch-spec.py SPEC.json [STEPS] [THREADS]
import json, sys, time, statistics
import torch
import torch.nn as nn

spec = json.load(open(sys.argv[1]))
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
torch.set_num_threads(int(sys.argv[3]) if len(sys.argv) > 3 else 2)
torch.manual_seed(0)

layers, shape = [], list(spec['input'])
for l in spec['layers']:
    t = l['type']
    if t == 'conv':
        layers.append(nn.Conv2d(shape[0], l['filters'], l['size'], l.get('stride', 1), l.get('pad', 0)))
        s, p = l.get('stride', 1), l.get('pad', 0)
        shape = [l['filters'], (shape[1] + 2 * p - l['size']) // s + 1, (shape[2] + 2 * p - l['size']) // s + 1]
    elif t in ('maxpool', 'avgpool'):
        k, s, p = l['size'], l.get('stride', l['size']), l.get('pad', 0)
        layers.append(nn.MaxPool2d(k, s, p) if t == 'maxpool' else nn.AvgPool2d(k, s, p, count_include_pad=True))
        shape = [shape[0], (shape[1] + 2 * p - k) // s + 1, (shape[2] + 2 * p - k) // s + 1]
    elif t == 'relu': layers.append(nn.ReLU())
    elif t == 'sigmoid': layers.append(nn.Sigmoid())
    elif t == 'tanh': layers.append(nn.Tanh())
    elif t == 'lrn': layers.append(nn.LocalResponseNorm(l['n'], alpha=l['alpha'] * l['n'], beta=l['beta'], k=l['k']))
    elif t == 'dropout': layers.append(nn.Dropout(l['ratio']))
    elif t == 'batchnorm': layers.append((nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d)(shape[0], eps=l['eps'], momentum=1 - l['momentum']))
    elif t == 'flatten':
        layers.append(nn.Flatten()); shape = [shape[0] * shape[1] * shape[2]] if len(shape) == 3 else shape
    elif t == 'globalavgpool':
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]; shape = [shape[0]]
    elif t == 'dense':
        if len(shape) == 3:
            layers.append(nn.Flatten()); shape = [shape[0] * shape[1] * shape[2]]
        layers.append(nn.Linear(shape[0], l['units'])); shape = [l['units']]
    else:
        raise SystemExit('no PyTorch twin for layer type ' + t)

net = nn.Sequential(*layers)
opt = torch.optim.Adam(net.parameters(), lr=0.001, eps=1e-7)
lossf = nn.CrossEntropyLoss()
x = torch.randn(100, *spec['input'])
t = torch.tensor([(i * 7) % 10 for i in range(100)])

def step():
    opt.zero_grad(set_to_none=True)
    loss = lossf(net(x), t)
    loss.backward()
    opt.step()

net.train()
for i in range(3): step()
times = []
for i in range(steps):
    t0 = time.perf_counter(); step(); times.append((time.perf_counter() - t0) * 1000)
net.eval()
infer = []
with torch.no_grad():
    for i in range(steps + 3):
        t0 = time.perf_counter(); net(x); dt = (time.perf_counter() - t0) * 1000
        if i >= 3: infer.append(dt)
print('RESULT ' + json.dumps({'stepMs': statistics.median(times), 'inferMs': statistics.median(infer), 'version': torch.__version__}))
