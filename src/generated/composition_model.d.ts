import type { CompositionModel } from '../rules/composition.js';

/**
 * The composition-level reward terms' model fitted on the Nottingham train split,
 * src/rules/nottingham_composition_model.json (made by scripts/data_summaries.mjs; written as a module at
 * build time by generate_inline_assets.mjs).
 */
export declare const COMPOSITION_MODEL: CompositionModel;
