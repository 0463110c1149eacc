"""Reference scores on mlpipe's own test split: scikit-learn logistic regression per label, on text
and columns together, on the text alone and on the columns alone.

  python3 scripts/reference.py RUNS/<run>/evaluate/predictions.csv out/tickets.csv

The test rows are the `source_row`s of the evaluate stage's predictions.csv (1-based data rows of
tickets.csv); every other row (mlpipe's train and validation rows) is used for training.
"""
import csv, json, sys
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.preprocessing import OneHotEncoder, StandardScaler

predictions, data = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(data)))
labels = ['billing', 'bug', 'urgent']
y = np.array([[int(r[l]) for l in labels] for r in rows])
test = sorted(int(r['source_row']) - 1 for r in csv.DictReader(open(predictions)))
train = sorted(set(range(len(rows))) - set(test))

from scipy.sparse import csr_matrix, hstack

def features(parts):
    """The design matrix of `parts` (text, columns), each encoder fitted on the train rows only."""
    blocks = []
    if 'text' in parts:
        v = CountVectorizer(binary=True).fit([rows[i]['subject'] for i in train])
        blocks.append(v.transform([r['subject'] for r in rows]))
    if 'columns' in parts:
        cats = np.array([[r['plan'], r['channel']] for r in rows])
        nums = np.array([[float(r[c]) for c in ['account_age_days', 'open_tickets', 'amount_due']] for r in rows])
        blocks.append(csr_matrix(OneHotEncoder().fit(cats[train]).transform(cats)))
        blocks.append(csr_matrix(StandardScaler().fit(nums[train]).transform(nums)))
    return hstack(blocks).tocsr()

def score(parts):
    x = features(parts)
    out = {}
    pred = np.zeros((len(test), len(labels)), dtype=int)
    for j, label in enumerate(labels):
        model = LogisticRegression(max_iter=2000).fit(x[train], y[train, j])
        p = model.predict_proba(x[test])[:, 1]
        pred[:, j] = p >= 0.5
        out[f'{label}_accuracy'] = accuracy_score(y[test, j], pred[:, j])
        out[f'{label}_f1'] = f1_score(y[test, j], pred[:, j])
        out[f'{label}_auc'] = roc_auc_score(y[test, j], p)
    for m in ['accuracy', 'f1', 'auc']:
        out[m] = float(np.mean([out[f'{l}_{m}'] for l in labels]))
    out['subset_accuracy'] = accuracy_score(y[test], pred)
    return {k: round(float(v), 4) for k, v in out.items()}

print(json.dumps({
    'test_rows': len(test), 'train_rows': len(train),
    'text_and_columns': score(['text', 'columns']),
    'text_only': score(['text']),
    'columns_only': score(['columns']),
}, indent=1))
