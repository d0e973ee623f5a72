// The shipped data summaries cannot go stale: both committed JSON files are recomputed here from
// data/nottingham (committed in the repository) with the code that made them, and the modules the build
// inlines must hold the same values. When this fails, run `npm run data:summaries` and commit the result.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA_REFERENCE_SUMMARIES } from '../../src/generated/data_reference.js';
import { COMPOSITION_MODEL } from '../../src/generated/composition_model.js';
import { computeDataSummaries, loadDataReference, SUMMARY_FILES, summaryJson } from '../../src/node/data_summaries.js';
import { shippedReference } from '../../src/eval/data_reference.js';

const root = join(import.meta.dirname, '..', '..');

describe('the shipped data summaries', () => {
  it('equal a fresh computation from data/nottingham, byte for byte, and the inlined modules hold them', async () => {
    const summaries = await computeDataSummaries(join(root, 'data', 'nottingham'));
    const committedReference = readFileSync(join(root, SUMMARY_FILES.reference), 'utf8');
    const committedModel = readFileSync(join(root, SUMMARY_FILES.compositionModel), 'utf8');
    expect(committedReference).toBe(summaryJson(summaries.reference));
    expect(committedModel).toBe(summaryJson(summaries.compositionModel));
    expect(DATA_REFERENCE_SUMMARIES).toEqual(JSON.parse(committedReference));
    expect(COMPOSITION_MODEL).toEqual(JSON.parse(committedModel));
    // What they were made from.
    expect(summaries.reference.source).toMatchObject({ files: 'splits/test.txt', filesRead: 169, melodies: 169 });
    expect(summaries.compositionModel.source).toMatchObject({ files: 'splits/train.txt', filesRead: 692, melodies: 692 });
  }, 60_000);

  it('--reference reads any split list or folder the same way (here the test split again)', async () => {
    const r = await loadDataReference(join(root, 'data', 'nottingham', 'splits', 'test.txt'), 64, 'test split');
    expect({ ...r, name: 'Nottingham test split' }).toEqual(shippedReference(64));
  }, 60_000);
});
