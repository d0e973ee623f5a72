/**
 * Tuning on a learned preference reward alone (src/prefs): the settings the listening page's loop and
 * bench/prefs_learning_curve.ts use, as overrides of a tuning config. pg with GRPO advantages over groups of
 * compositions from one primer, every rule and composition term weighted 0, the reward model's score weighted 1
 * (GRPO standardises the returns within each group, so the weight's scale does not matter), and a KL penalty
 * β = 0.2 to the Note RNN, which keeps what the answers did not speak of close to the prior. Learning rate
 * 0.003: at 0.01 the policy moved as far but the runs were noisier (trials on the tonic-ending listener's
 * reward models; bench/results has the measured curves).
 */
import type { TunerConfig } from './config.js';

/** The config overrides for tuning on a reward model alone (give the reward model to the tuner). */
export const PREFERENCE_TUNING: Readonly<Partial<TunerConfig>> = Object.freeze({
  algorithm: 'pg', pgAdvantage: 'grpo', pgReturn: 'to-go', learningRate: 0.003, klCoefficient: 0.2, rewardScaler: 1,
  weightKey: 0, weightTonic: 0, weightRepeating: 0, weightAutocorrelation: 0, weightMotif: 0, weightRepeatedMotif: 0, weightIntervals: 0,
  weightLeap: 0, weightUniqueExtremes: 0, weightTonicEnding: 0, weightRhythm: 0, weightPitchRange: 0, weightPhraseRecurrence: 0,
  weightPreference: 1, trainingSteps: 163_840,
});
