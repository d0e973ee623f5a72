import type { DataReference } from '../eval/data_reference.js';

/**
 * The shipped data reference summaries, src/eval/nottingham_reference.json (made by
 * scripts/data_summaries.mjs; written as a module at build time by generate_inline_assets.mjs).
 */
export declare const DATA_REFERENCE_SUMMARIES: {
  source: Record<string, unknown>;
  references: DataReference[];
};
