/**
 * The paper's evaluation numbers (Jaques et al. 2016, as SPEC §6 lists them), keyed like EVALUATION_ROWS,
 * so the page can show them beside this run's. Fractions, like the rows' values; autocorrelations as
 * numbers. The paper reports no listener metrics, log p or KL: those rows have no entry.
 */
export type PaperColumn = 'note_rnn' | 'q' | 'psi' | 'g';

export const PAPER_COLUMN_LABELS: Record<PaperColumn, string> = { note_rnn: 'Note RNN', q: 'Q', psi: 'Ψ', g: 'G' };

export const PAPER_VALUES: Readonly<Record<string, Record<PaperColumn, number>>> = {
  notes_excessively_repeated: { note_rnn: 0.633, q: 0.0, psi: 0.0002, g: 0.0003 },
  notes_not_in_key: { note_rnn: 0.001, q: 0.01, psi: 0.006, g: 0.287 },
  autocorrelation_lag_1: { note_rnn: -0.16, q: -0.11, psi: -0.1, g: 0.55 },
  autocorrelation_lag_2: { note_rnn: 0.14, q: 0.03, psi: -0.01, g: 0.31 },
  autocorrelation_lag_3: { note_rnn: -0.13, q: 0.03, psi: 0.01, g: 0.17 },
  leaps_resolved: { note_rnn: 0.772, q: 0.911, psi: 0.9, g: 0.522 },
  starting_with_tonic: { note_rnn: 0.009, q: 0.288, psi: 0.287, g: 0.0 },
  unique_max_note: { note_rnn: 0.647, q: 0.564, psi: 0.594, g: 0.371 },
  unique_min_note: { note_rnn: 0.494, q: 0.519, psi: 0.583, g: 0.565 },
  notes_in_motif: { note_rnn: 0.059, q: 0.757, psi: 0.738, g: 0.693 },
  notes_in_repeated_motif: { note_rnn: 0.00007, q: 0.0011, psi: 0.0009, g: 0.0001 },
};
