import { describe, expect, it } from 'vitest';
import {
  accuracy,
  balancedAccuracy,
  matthewsCorrcoef,
  topKAccuracy,
  classificationMetrics,
  confusionMatrix,
  logLoss,
  meanAbsoluteError,
  meanSquaredError,
  perClass,
  precisionRecallF1,
  r2Score,
  regressionMetrics,
  rocAuc,
  rocAucOvr,
} from '../../src/ml/metrics.js';

describe('classification metrics: scikit-learn documented examples', () => {
  it('accuracy_score([0, 2, 1, 3], [0, 1, 2, 3]) = 0.5', () => {
    expect(accuracy([0, 2, 1, 3], [0, 1, 2, 3])).toBe(0.5);
  });

  it('confusion_matrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])', () => {
    expect(confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2], 3)).toEqual([
      [2, 0, 0],
      [0, 0, 1],
      [1, 0, 2],
    ]);
  });

  it('precision_recall_fscore_support / f1_score on y_true=[0,1,2,0,1,2], y_pred=[0,2,1,0,0,1]', () => {
    const yTrue = [0, 1, 2, 0, 1, 2];
    const yPred = [0, 2, 1, 0, 0, 1];
    const macro = precisionRecallF1(yTrue, yPred, 3, 'macro');
    expect(macro.precision).toBeCloseTo(0.2222, 4);
    expect(macro.recall).toBeCloseTo(0.3333, 4);
    expect(macro.f1).toBeCloseTo(0.2667, 4);
    const weighted = precisionRecallF1(yTrue, yPred, 3, 'weighted');
    expect(weighted.precision).toBeCloseTo(0.2222, 4);
    expect(weighted.recall).toBeCloseTo(0.3333, 4);
    expect(weighted.f1).toBeCloseTo(0.2667, 4);
    expect(perClass(yTrue, yPred, 3).map((c) => c.f1)).toEqual([0.8, 0, 0]);
  });

  it('roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.75', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
  });

  it('log_loss(["spam","ham","ham","spam"], [[.1,.9],[.9,.1],[.8,.2],[.35,.65]]) = 0.21616', () => {
    expect(logLoss([1, 0, 0, 1], [0.1, 0.9, 0.9, 0.1, 0.8, 0.2, 0.35, 0.65], 2)).toBeCloseTo(0.21616, 5);
  });
});

describe('classification metrics: hand-computed', () => {
  it('binary precision/recall/F1 of class 1 with an unequal confusion matrix', () => {
    // tp=2 fp=1 fn=2 tn=3 → precision 2/3, recall 1/2, f1 4/7
    const yTrue = [1, 1, 1, 1, 0, 0, 0, 0];
    const yPred = [1, 1, 0, 0, 1, 0, 0, 0];
    const r = precisionRecallF1(yTrue, yPred, 2, 'binary');
    expect(r.precision).toBeCloseTo(2 / 3, 12);
    expect(r.recall).toBeCloseTo(1 / 2, 12);
    expect(r.f1).toBeCloseTo(4 / 7, 12);
    // class 0: precision 3/5, recall 3/4, f1 2/3; supports 4 and 4 → weighted = macro
    const macro = precisionRecallF1(yTrue, yPred, 2, 'macro');
    expect(macro.precision).toBeCloseTo((2 / 3 + 3 / 5) / 2, 12);
    expect(macro.f1).toBeCloseTo((4 / 7 + 2 / 3) / 2, 12);
  });

  it('weighted average uses supports', () => {
    // class 0 support 3 (all right), class 1 support 1 (predicted 0): f1_0 = 6/7, f1_1 = 0
    const r = precisionRecallF1([0, 0, 0, 1], [0, 0, 0, 0], 2, 'weighted');
    expect(r.f1).toBeCloseTo((3 / 4) * (6 / 7), 12);
    expect(r.precision).toBeCloseTo((3 / 4) * (3 / 4), 12);
  });

  it('ROC AUC counts tied scores as half and is NaN with one class', () => {
    // pairs (pos, neg): (0.5, 0.5) tie = 0.5, (0.5, 0.2) = 1, (0.9, 0.5) = 1, (0.9, 0.2) = 1 → 3.5 / 4
    expect(rocAuc([1, 0, 1, 0], [0.5, 0.5, 0.9, 0.2])).toBe(0.875);
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNaN();
    expect(rocAuc([0, 1, 0, 1], [0.9, 0.1, 0.8, 0.2])).toBe(0);
  });

  it('multiclass one-vs-rest macro AUC', () => {
    const y = [0, 1, 2, 2];
    const probs = [0.8, 0.1, 0.1, 0.3, 0.4, 0.3, 0.2, 0.5, 0.3, 0.1, 0.1, 0.8];
    // class 0: scores [.8,.3,.2,.1] pos {0} → 1; class 1: [.1,.4,.5,.1] pos {1}: beats .1,.1, loses .5 → 2/3;
    // class 2: [.1,.3,.3,.8] pos {2,3} vs neg {0,1}: (.3>.1)=1 (.3=.3)=.5 (.8>.1)=1 (.8>.3)=1 → 3.5/4
    expect(rocAucOvr(y, probs, 3)).toBeCloseTo((1 + 2 / 3 + 0.875) / 3, 12);
  });

  it('log loss clips zero probabilities instead of returning Infinity', () => {
    expect(logLoss([0], [0, 1], 2)).toBeCloseTo(-Math.log(1e-15), 6);
    expect(logLoss([0, 1], [1, 0, 0, 1], 2)).toBeCloseTo(-Math.log(1 - 1e-15), 12);
  });

  it('flattens every scalar; precision/recall/f1 are binary for two classes and macro otherwise', () => {
    const yTrue = [1, 1, 1, 1, 0, 0, 0, 0];
    const yPred = [1, 1, 0, 0, 1, 0, 0, 0];
    const probs = yPred.flatMap((p) => (p === 1 ? [0.3, 0.7] : [0.6, 0.4]));
    const m = classificationMetrics(yTrue, yPred, probs, 2);
    expect(Object.keys(m).sort()).toEqual([
      'accuracy', 'auc', 'balanced_accuracy', 'f1', 'f1_macro', 'f1_weighted', 'log_loss', 'mcc', 'precision', 'precision_macro',
      'precision_weighted', 'recall', 'recall_macro', 'recall_weighted',
    ]);
    expect(m.f1).toBeCloseTo(4 / 7, 12);
    expect(m.accuracy).toBe(5 / 8);
    const multi = classificationMetrics([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], new Array(18).fill(1 / 3), 3);
    expect(multi.f1).toBeCloseTo(0.2667, 4);
    expect(multi.auc).toBe(0.5);
    expect(multi.log_loss).toBeCloseTo(Math.log(3), 12);
  });

  it('rejects mismatched lengths and out-of-range labels', () => {
    expect(() => accuracy([0, 1], [0])).toThrow(/length mismatch/);
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/out of range/);
  });
});

describe('regression metrics', () => {
  const yTrue = [3, -0.5, 2, 7];
  const yPred = [2.5, 0.0, 2, 8];

  it('scikit-learn examples: mean_squared_error 0.375, mean_absolute_error 0.5, r2_score 0.9486', () => {
    expect(meanSquaredError(yTrue, yPred)).toBe(0.375);
    expect(meanAbsoluteError(yTrue, yPred)).toBe(0.5);
    expect(r2Score(yTrue, yPred)).toBeCloseTo(0.9486, 4);
    const all = regressionMetrics(yTrue, yPred);
    expect(all.rmse).toBeCloseTo(Math.sqrt(0.375), 12);
  });

  it('r2 with constant targets follows force_finite; a mean predictor scores 0', () => {
    expect(r2Score([1, 1, 1], [1, 1, 1])).toBe(1);
    expect(r2Score([1, 1, 1], [1, 2, 1])).toBe(0);
    expect(r2Score([1, 2, 3], [2, 2, 2])).toBe(0);
    expect(r2Score([1, 2, 3], [3, 2, 1])).toBe(-3);
  });
});

describe('macro averages follow scikit-learn (issue 13 item 7)', () => {
  it('count only the classes present in the true or predicted labels, like f1_score(average="macro")', () => {
    // k = 3 classes in the dataset, but class 2 occurs in neither list (absent from this split).
    const yTrue = [0, 0, 1, 1];
    const yPred = [0, 1, 1, 1];
    const macro = precisionRecallF1(yTrue, yPred, 3, 'macro');
    // sklearn: class 0 p 1, r 0.5, f1 2/3; class 1 p 2/3, r 1, f1 0.8 → macro over {0, 1}
    expect(macro.precision).toBeCloseTo((1 + 2 / 3) / 2, 12);
    expect(macro.recall).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(macro.f1).toBeCloseTo((2 / 3 + 0.8) / 2, 12);
    // a class that is only predicted counts (its precision and recall are 0), as in sklearn
    const withPredicted = precisionRecallF1([0, 0, 1, 1], [0, 2, 1, 1], 3, 'macro');
    expect(withPredicted.recall).toBeCloseTo((0.5 + 1 + 0) / 3, 12);
  });
});


describe('evaluate metrics from scikit-learn (issue 13 item 9)', () => {
  const yTrue = [0, 0, 1, 1, 2, 2, 2, 1];
  const yPred = [0, 1, 1, 1, 2, 0, 2, 2];
  const probs = [0.6, 0.3, 0.1, 0.3, 0.5, 0.2, 0.1, 0.8, 0.1, 0.2, 0.7, 0.1, 0.1, 0.1, 0.8, 0.5, 0.3, 0.2, 0.2, 0.2, 0.6, 0.3, 0.3, 0.4];
  it('balanced_accuracy, mcc and top_k_accuracy equal scikit-learn 1.2 on the same labels', () => {
    // balanced_accuracy_score, matthews_corrcoef, top_k_accuracy_score(k=2), (k=1)
    expect(balancedAccuracy(yTrue, yPred, 3)).toBeCloseTo(0.611111111111111, 12);
    expect(matthewsCorrcoef(yTrue, yPred, 3)).toBeCloseTo(0.42857142857142855, 12);
    expect(topKAccuracy(yTrue, probs, 3, 2)).toBeCloseTo(0.875, 12);
    expect(topKAccuracy(yTrue, probs, 3, 1)).toBeCloseTo(0.625, 12);
    const all = classificationMetrics(yTrue, yPred, probs, 3, { topK: 2 });
    expect(all).toMatchObject({ balanced_accuracy: balancedAccuracy(yTrue, yPred, 3), mcc: matthewsCorrcoef(yTrue, yPred, 3), top_k_accuracy: 0.875 });
  });
});
