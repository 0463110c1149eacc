import { describe, expect, it } from 'vitest';
import { metricKeyOf, metricStageOf, splitMetricName } from '../../src/core/tracker/metric-name.js';
import { directionOf, findMetricName } from '../../src/app/compare/metric-names.js';
import { sortField } from '../../src/serve/ui/runs-query.js';

describe('splitMetricName', () => {
  it('splits a plain stage name at its only possible dot, keeping dots of the key', () => {
    expect(splitMetricName('evaluate.accuracy')).toEqual({ stage: 'evaluate', key: 'accuracy' });
    expect(splitMetricName('report.scores.f1')).toEqual({ stage: 'report', key: 'scores.f1' });
    expect(splitMetricName('evaluate.confusion_matrix.0.1')).toEqual({ stage: 'evaluate', key: 'confusion_matrix.0.1' });
  });

  it("keeps a template stage's dotted item (train@lr0.1) in the stage", () => {
    expect(splitMetricName('train@lr0.1.accuracy')).toEqual({ stage: 'train@lr0.1', key: 'accuracy' });
    expect(splitMetricName('fit@0.001.val.loss')).toEqual({ stage: 'fit@0.001', key: 'val.loss' });
    expect(splitMetricName('fit@1.2.3.confusion_matrix.0.1')).toEqual({ stage: 'fit@1.2.3', key: 'confusion_matrix.0.1' });
    expect(splitMetricName('train@small.accuracy')).toEqual({ stage: 'train@small', key: 'accuracy' });
    expect(splitMetricName('train@cnn-0.5.f1')).toEqual({ stage: 'train@cnn-0.5', key: 'f1' });
  });

  it('takes the longest known stage when the stages are given', () => {
    expect(splitMetricName('train@a.b.accuracy', ['train@a', 'train@a.b'])).toEqual({ stage: 'train@a.b', key: 'accuracy' });
    expect(splitMetricName('train@a.b.accuracy', ['evaluate'])).toEqual({ stage: 'train@a', key: 'b.accuracy' });
  });

  it('gives nothing for a name without a stage', () => {
    expect(splitMetricName('accuracy')).toBeUndefined();
    expect(splitMetricName('.accuracy')).toBeUndefined();
    expect(splitMetricName('train.')).toBeUndefined();
    expect(metricKeyOf('accuracy')).toBe('accuracy');
    expect(metricStageOf('accuracy')).toBe('');
  });
});

describe('the places that split a metric name', () => {
  it('sorts the runs table by a metric of a template stage with a dotted item', () => {
    expect(sortField('metrics.train@lr0.1.accuracy')).toBe('metrics.`train@lr0.1`.accuracy');
    expect(sortField('metrics.evaluate.accuracy')).toBe('metrics.evaluate.accuracy');
  });

  it('finds a bare key and its direction override under a dotted stage', () => {
    expect(findMetricName('accuracy', ['train@lr0.1.accuracy', 'train@lr0.1.loss'])).toEqual({ name: 'train@lr0.1.accuracy' });
    expect(directionOf('train@lr0.1.score', { score: 'lower' })).toBe('lower');
  });
});
