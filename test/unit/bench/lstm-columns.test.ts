import { describe, expect, it } from 'vitest';
import { datasetOf, lstmReport, parseLstmColumnArg } from '../../../bench/support/global-lstm-columns.js';
import type { LstmColumnArgs, LstmColumns } from '../../../bench/support/global-lstm-columns.js';

const columns: LstmColumns = {
  runs: new Map(),
  choices: [{ dataset: 'nab/realTweets', variant: 'default', otherDatasetsValidationMase: Number.NaN }],
  options: { default: { lookbackSteps: 60, features: ['value'], units: [64, 32], epochs: 3, maxWindows: 8192, learningRate: 0.002 } },
};

describe('bench:forecast LSTM columns', () => {
  it('names a series by its folder: the dataset left out together', () => {
    expect(datasetOf('nab/realTweets/Twitter_volume_AAPL.csv')).toBe('nab/realTweets');
    expect(datasetOf('cpu/azure.csv')).toBe('cpu');
    expect(datasetOf('alone.csv')).toBe('alone.csv');
  });

  it('counts the series where the LSTM alone beats Holt-Winters, and where auto serves it', () => {
    const rows = [
      { series: 'a/1.csv', mase: { lstm: 0.5, holt_winters: 0.6 }, autoLstmChoice: 'lstm' },
      { series: 'a/2.csv', mase: { lstm: 0.7, holt_winters: 0.6 }, autoLstmChoice: 'median_top3(rf, lstm, hw)' },
      { series: 'b/3.csv', mase: { lstm: 0.4, holt_winters: 0.9 }, autoLstmChoice: 'rf' },
      // Not scored (the LSTM could not train): out of the Holt-Winters count, still a served series.
      { series: 'b/4.csv', mase: { lstm: Number.NaN, holt_winters: 0.9 }, autoLstmChoice: 'hw' },
    ];
    const text = lstmReport(rows, columns).join('\n');
    expect(text).toContain('lower test MASE on **2 of 3** series (67 %; bar ≥ 60 %: met)');
    expect(text).toContain('alone on 1 of 4 (25 %), in the chosen combination on 2 of 4 (50 %)');
    const worse = lstmReport([{ series: 'a/1.csv', mase: { lstm: 0.7, holt_winters: 0.6 }, autoLstmChoice: 'hw' }], columns).join('\n');
    expect(worse).toContain('**0 of 1** series (0 %; bar ≥ 60 %: NOT met)');
  });

  it('parses its flags and refuses unknown variants and bad numbers, naming the flag', () => {
    const args: { -readonly [K in keyof LstmColumnArgs]: LstmColumnArgs[K] } = { variants: ['default'] };
    expect(parseLstmColumnArg(['--lstm-variants', 'default,lr-0.001'], 0, args)).toBe(1);
    expect(args.variants).toEqual(['default', 'lr-0.001']);
    expect(parseLstmColumnArg(['--lstm-epochs', '2'], 0, args)).toBe(1);
    expect(args.epochs).toBe(2);
    expect(parseLstmColumnArg(['--json'], 0, args)).toBeUndefined();
    expect(() => parseLstmColumnArg(['--lstm-variants', 'nope'], 0, args)).toThrow(/--lstm-variants: unknown variant\(s\) nope/);
    expect(() => parseLstmColumnArg(['--lstm-windows', '0'], 0, args)).toThrow(/--lstm-windows must be a whole number >= 1/);
    expect(() => parseLstmColumnArg(['--lstm-epochs'], 0, args)).toThrow(/--lstm-epochs needs a value/);
  });
});
