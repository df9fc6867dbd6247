import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Model, type ModelInput, type Prediction, predictMany } from '../../src/models/model.ts';

function stub(overrides: Partial<Model>): Model {
  return {
    name: 'stub.v1',
    task: 'classify',
    fit: async () => ({ epochs: 0, seconds: 0 }) as never,
    predict: (inputs: ModelInput[]): Prediction[] => inputs.map(() => ({ labels: ['sync'] })),
    explain: () => [],
    config: () => ({}),
    save: async () => {},
    ...overrides,
  };
}

describe('predictMany', () => {
  it('uses the synchronous predict of an ordinary model', async () => {
    const [p] = await predictMany(stub({}), [{ text: 'hi' }]);
    assert.equal(p?.labels?.[0], 'sync', 'sync path');
  });

  it('prefers predictAsync when the model has an asynchronous runtime', async () => {
    const model = stub({
      predict: () => {
        throw new Error('use predictAsync');
      },
      predictAsync: async (inputs) => inputs.map(() => ({ labels: ['async'] })),
    });
    const [p] = await predictMany(model, [{ text: 'hi' }]);
    assert.equal(p?.labels?.[0], 'async', 'async path');
  });

  it('turns an error thrown by predict into a rejection', async () => {
    const model = stub({
      predict: () => {
        throw new Error('not fitted');
      },
    });
    await assert.rejects(predictMany(model, [{ text: 'hi' }]), /not fitted/, 'rejects');
  });
});
