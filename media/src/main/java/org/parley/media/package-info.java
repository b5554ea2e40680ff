/**
 * Voice media without I/O: Opus (Concentus, pure Java) at 48 kHz mono in 20 ms frames, the adaptive jitter buffer with
 * packet loss concealment and in-band FEC recovery, and WAV files and signal analysis for headless calls and tests.
 * Time comes from the caller (a clock or explicit timestamps), so the same code runs in simulations and in the daemon.
 */
package org.parley.media;
