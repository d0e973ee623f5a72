/**
 * Tuning on a learned preference reward alone (src/prefs): the settings the listening page's loop and
 * bench/prefs_learning_curve.ts use, as overrides of a tuning config. pg with GRPO advantages over 8 groups of
 * 8 compositions (each group from one primer), every rule and composition term weighted 0, the reward model's
 * score weighted 1 (GRPO standardises the returns within each group, so the weight's scale does not matter),
 * and a KL penalty β = 0.2 to the Note RNN, which keeps what the answers did not speak of close to the prior;
 * learning rate 0.003, 163,840 steps (80 updates of 64 compositions of 32 steps).
 *
 * Chosen in trials on reward models from 300 answers of the tonic-ending listener (three seeds): 8 groups
 * took the share of melodies ending on the tonic from about 20 % to 64, 78 and 82 % at a KL of 0.16 to 0.22
 * nats per note, where 4 groups gave 40, 78 and 84 % (KL 0.10 to 0.31), twice the steps 81 to 89 % (KL 0.25 to
 * 0.63), β = 0.1 77 to 94 % (KL 0.31 to 1.3), and learning rate 0.01 58 to 88 % (KL 0.33 to 0.87).
 */
import type { TunerConfig } from './config.js';

/** The config overrides for tuning on a reward model alone (give the reward model to the tuner). */
export const PREFERENCE_TUNING: Readonly<Partial<TunerConfig>> = Object.freeze({
  algorithm: 'pg', pgAdvantage: 'grpo', pgReturn: 'to-go', pgGroups: 8, pgGroupSize: 8, learningRate: 0.003, klCoefficient: 0.2, rewardScaler: 1,
  weightKey: 0, weightTonic: 0, weightRepeating: 0, weightAutocorrelation: 0, weightMotif: 0, weightRepeatedMotif: 0, weightIntervals: 0,
  weightLeap: 0, weightUniqueExtremes: 0, weightTonicEnding: 0, weightRhythm: 0, weightPitchRange: 0, weightPhraseRecurrence: 0,
  weightPreference: 1, trainingSteps: 163_840,
});
