/**
 * Tuning on a learned preference reward alone (src/prefs): the settings the listening page's loop and
 * bench/prefs_learning_curve.ts use, as overrides of a tuning config. pg with GRPO advantages over 8 groups of
 * 8 compositions (each group from one primer), every rule and composition term weighted 0, the reward model's
 * score weighted 1, and the KL to the Note RNN in the reward (pgKl 'reward', γ = 1, β = 0.1): each step pays
 * β·(log π − log p) of its note, so the optimum is the Note RNN reweighted by exp(score/β) over whole
 * compositions and what the answers did not speak of moves only as far as it goes with what they did
 * (src/prefs/least_change.ts draws that optimum for a scripted listener); learning rate 0.003, 655,360 steps
 * (320 updates of 64 compositions of 32 steps).
 *
 * Chosen against the former settings (β = 0.2 as k3 in the loss, 163,840 steps) on reward models from 300
 * noisy answers of three scripted listeners, three seeds each (bench/results/2026-12-08-prefs-least-change.md):
 * half the distance to the listener's ideal on 2 of 3 seeds for the tonic-ending and few-notes listeners (the
 * former: 3 and 2; one tonic-ending reward model barely moves the statistic with the KL in the reward, 13.8 % →
 * 19.2 %, where the former took it to 74.3 %), while the rows beyond the seed noise of the least
 * change at the same statistic fell from 32, 2 and 12 to 2, 1 and 1. A quarter of the steps left 14, 3 and 5.
 */
import type { TunerConfig } from './config.js';

/** The config overrides for tuning on a reward model alone (give the reward model to the tuner). */
export const PREFERENCE_TUNING: Readonly<Partial<TunerConfig>> = Object.freeze({
  algorithm: 'pg', pgAdvantage: 'grpo', pgReturn: 'to-go', pgKl: 'reward', gamma: 1, pgGroups: 8, pgGroupSize: 8, learningRate: 0.003, klCoefficient: 0.1, rewardScaler: 1,
  weightKey: 0, weightTonic: 0, weightRepeating: 0, weightAutocorrelation: 0, weightMotif: 0, weightRepeatedMotif: 0, weightIntervals: 0,
  weightLeap: 0, weightUniqueExtremes: 0, weightTonicEnding: 0, weightRhythm: 0, weightPitchRange: 0, weightPhraseRecurrence: 0,
  weightPreference: 1, trainingSteps: 655_360,
});
