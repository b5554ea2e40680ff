/**
 * Audio at the edges of a call without devices: WAV files in and out (any PCM WAV in, resampled to the call format;
 * 48 kHz mono 16-bit out, written as it plays) and the signal analysis the tests and benchmarks use (delay by
 * cross-correlation, SNR, loudness-envelope correlation, test sweeps).
 */
package org.parley.media.io;
