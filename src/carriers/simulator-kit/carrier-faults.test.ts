import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { CarrierFaults } from './carrier-faults.ts';

interface StepFaults {
  stepMs: number;
  failIccids: string[];
}

const patchSchema = z.strictObject({
  stepMs: z.number().int().min(0).optional(),
  failIccids: z.array(z.string()).optional(),
});

describe('carrier faults', () => {
  it('merges a patch, keeping omitted and undefined fields, and resets to the defaults', () => {
    const faults = new CarrierFaults<StepFaults>({ stepMs: 1000, failIccids: [] }, patchSchema);
    assert.deepEqual(faults.update({ failIccids: ['1'], stepMs: undefined }), {
      stepMs: 1000,
      failIccids: ['1'],
    });
    assert.deepEqual(faults.update({ stepMs: 5 }), { stepMs: 5, failIccids: ['1'] });
    faults.reset();
    assert.deepEqual(faults.get(), { stepMs: 1000, failIccids: [] });
  });

  it('copies values in and out, so that no caller changes them behind its back', () => {
    const defaults: StepFaults = { stepMs: 1000, failIccids: ['1'] };
    const faults = new CarrierFaults(defaults, patchSchema);
    defaults.failIccids.push('2');
    faults.get().failIccids.push('3');
    const patch = ['4'];
    faults.update({ failIccids: patch });
    patch.push('5');
    assert.deepEqual(faults.get().failIccids, ['4']);
    faults.reset();
    assert.deepEqual(faults.get().failIccids, ['1']);
  });

  it('serves the kit through its extension: the same values, a checked patch, the same reset', () => {
    const faults = new CarrierFaults<StepFaults>({ stepMs: 1000, failIccids: [] }, patchSchema);
    const extension = faults.extension();
    assert.equal(extension.patchSchema, patchSchema);
    extension.update({ stepMs: 7 });
    assert.deepEqual(extension.get(), { stepMs: 7, failIccids: [] });
    assert.throws(() => extension.update({ stepMs: -1 }), z.ZodError);
    extension.reset();
    assert.equal(faults.get().stepMs, 1000);
  });
});
