// Remakes the data summaries the library ships (run with `npm run data:summaries`, which builds first):
//   src/eval/nottingham_reference.json        the Nottingham test split cut into pieces of 32, 64 and 128
//                                             steps, summarised for the data-likeness rows of evaluations
//   src/rules/nottingham_composition_model.json  the composition-level reward terms' duration distribution and
//                                             pitch-range distributions, fitted on the Nottingham train split
// from data/nottingham, with the code in dist/ (src/node/data_summaries.ts). The build then turns them into
// modules (src/generated/generate_inline_assets.mjs); test/eval/data_reference.test.ts recomputes both from
// the data and fails when a committed file differs, so they cannot go stale.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeDataSummaries, SUMMARY_FILES, summaryJson } from '../dist/node/data_summaries.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const summaries = await computeDataSummaries(join(root, 'data', 'nottingham'));
writeFileSync(join(root, SUMMARY_FILES.reference), summaryJson(summaries.reference));
writeFileSync(join(root, SUMMARY_FILES.compositionModel), summaryJson(summaries.compositionModel));
for (const r of summaries.reference.references) {
  console.log(`reference ${r.numNotes} steps: ${r.stats.pieces} pieces from ${r.tunesUsed} of ${r.tunes} tunes`);
}
const share = (p) => `${(100 * p).toFixed(1)}%`;
console.log(`composition model: durations 16th ${share(summaries.compositionModel.durationProbs[0])}, 8th ${share(summaries.compositionModel.durationProbs[1])}, quarter ${share(summaries.compositionModel.durationProbs[3])}; ` +
  `pitch ranges fitted for ${summaries.compositionModel.pitchRange.map((m) => `${m.numNotes}`).join(', ')} steps`);
console.log(`wrote ${SUMMARY_FILES.reference} and ${SUMMARY_FILES.compositionModel}; run npm run build to inline them`);
