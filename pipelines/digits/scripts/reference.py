"""Reference scores on mlpipe's own test split: scikit-learn logistic regression and the same CNN in PyTorch.

  python3 scripts/reference.py RUNS/<run>/evaluate/predictions.csv data/digits.jsonl

The test rows are the `source_row`s of the evaluate stage's predictions.csv (1-based data rows of
index.csv, which lists the digits in data/digits.jsonl order); every other row is used for training.
"""
import csv, json, sys
import numpy as np

predictions, data = sys.argv[1], sys.argv[2]
rows = [json.loads(line) for line in open(data)]
x = np.array([r['pixels'] for r in rows], dtype=np.float32) / 16.0
y = np.array([r['digit'] for r in rows])
test = sorted(int(r['source_row']) - 1 for r in csv.DictReader(open(predictions)))
train = sorted(set(range(len(rows))) - set(test))
out = {'test_rows': len(test), 'train_rows': len(train)}

from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
clf = LogisticRegression(max_iter=5000).fit(x[train], y[train])
out['sklearn_logistic_regression_accuracy'] = round(accuracy_score(y[test], clf.predict(x[test])), 4)

import torch
torch.manual_seed(42)
torch.set_num_threads(1)
net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
    torch.nn.Linear(32, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
opt = torch.optim.Adam(net.parameters(), lr=0.01)
xt = torch.tensor(x).reshape(-1, 1, 8, 8)
yt = torch.tensor(y)
for epoch in range(20):
    perm = torch.randperm(len(train))
    for i in range(0, len(train), 32):
        idx = torch.tensor(train)[perm[i:i + 32]]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
        opt.step()
with torch.no_grad():
    pred = net(xt[test]).argmax(1).numpy()
out['pytorch_same_cnn_20_epochs_accuracy'] = round(float((pred == y[test]).mean()), 4)
print(json.dumps(out))
