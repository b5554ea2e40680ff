package org.parley.media.io;

/**
 * Comparing what was sent with what was heard: the delay by cross-correlation, then waveform SNR after a gain fit and
 * the correlation of 20 ms loudness envelopes (Opus is perceptual, so speech is judged by its envelope: aligned and
 * intelligible, not sample-exact).
 */
public final class SignalAnalysis {
    private SignalAnalysis() {
    }

    /** The result of comparing a received signal with the sent one. */
    public record Comparison(int delaySamples, double delayMillis, double snrDb, double envelopeCorrelation) {}

    /**
     * Finds how many samples {@code received} lags {@code sent} (0 to {@code maxDelay}), then compares the overlap.
     */
    public static Comparison compare(short[] sent, short[] received, int maxDelay) {
        int d = delay(sent, received, maxDelay);
        int n = Math.min(sent.length, received.length - d);
        if (n <= 0) return new Comparison(d, d / 48.0, Double.NEGATIVE_INFINITY, 0);
        double ss = 0, rr = 0, sr = 0;
        for (int i = 0; i < n; i++) {
            double s = sent[i], r = received[i + d];
            ss += s * s;
            rr += r * r;
            sr += s * r;
        }
        double g = rr == 0 ? 0 : sr / rr;
        double err = 0;
        for (int i = 0; i < n; i++) {
            double e = sent[i] - g * received[i + d];
            err += e * e;
        }
        double snr = err == 0 ? 120 : 10 * Math.log10(ss / err);
        return new Comparison(d, d / 48.0, snr, envelopeCorrelation(sent, received, d, n));
    }

    /** Pearson correlation of the log RMS of 20 ms blocks (960 samples) of the aligned signals. */
    static double envelopeCorrelation(short[] sent, short[] received, int delay, int n) {
        int blocks = n / 960;
        if (blocks < 2) return 0;
        double[] a = new double[blocks], b = new double[blocks];
        for (int k = 0; k < blocks; k++) {
            double ea = 0, eb = 0;
            for (int i = k * 960; i < (k + 1) * 960; i++) {
                ea += (double) sent[i] * sent[i];
                eb += (double) received[i + delay] * received[i + delay];
            }
            a[k] = Math.log10(ea / 960 + 1);
            b[k] = Math.log10(eb / 960 + 1);
        }
        return pearson(a, b);
    }

    static double pearson(double[] a, double[] b) {
        double ma = 0, mb = 0;
        for (int i = 0; i < a.length; i++) {
            ma += a[i];
            mb += b[i];
        }
        ma /= a.length;
        mb /= b.length;
        double cov = 0, va = 0, vb = 0;
        for (int i = 0; i < a.length; i++) {
            cov += (a[i] - ma) * (b[i] - mb);
            va += (a[i] - ma) * (a[i] - ma);
            vb += (b[i] - mb) * (b[i] - mb);
        }
        return va == 0 || vb == 0 ? 0 : cov / Math.sqrt(va * vb);
    }

    /**
     * The lag (0..maxDelay samples) maximising the cross-correlation: coarse on 4x decimated signals through an FFT,
     * then exact at full rate within a few samples around it.
     */
    public static int delay(short[] sent, short[] received, int maxDelay) {
        int dec = 4;
        double[] s = decimate(sent, dec), r = decimate(received, dec);
        int maxLag = maxDelay / dec + 1;
        int size = Integer.highestOneBit(Math.max(s.length, r.length) + maxLag) * 2;
        double[] sr = new double[size], si = new double[size], rr = new double[size], ri = new double[size];
        System.arraycopy(s, 0, sr, 0, s.length);
        System.arraycopy(r, 0, rr, 0, r.length);
        fft(sr, si, false);
        fft(rr, ri, false);
        // corr[lag] = sum s[i] r[i + lag]: IFFT(conj(S) R)
        double[] cr = new double[size], ci = new double[size];
        for (int k = 0; k < size; k++) {
            cr[k] = sr[k] * rr[k] + si[k] * ri[k];
            ci[k] = sr[k] * ri[k] - si[k] * rr[k];
        }
        fft(cr, ci, true);
        int best = 0;
        for (int lag = 1; lag <= Math.min(maxLag, size - 1); lag++) if (cr[lag] > cr[best]) best = lag;
        int from = Math.max(0, best * dec - 2 * dec), to = Math.min(maxDelay, best * dec + 2 * dec);
        int bestFine = from;
        double bestVal = Double.NEGATIVE_INFINITY;
        for (int lag = from; lag <= to; lag++) {
            double acc = 0;
            int n = Math.min(sent.length, received.length - lag);
            for (int i = 0; i < n; i++) acc += (double) sent[i] * received[i + lag];
            if (acc > bestVal) {
                bestVal = acc;
                bestFine = lag;
            }
        }
        return bestFine;
    }

    private static double[] decimate(short[] x, int factor) {
        double[] out = new double[x.length / factor];
        for (int i = 0; i < out.length; i++) {
            double acc = 0;
            for (int k = 0; k < factor; k++) acc += x[i * factor + k];
            out[i] = acc / factor;
        }
        return out;
    }

    /** In-place iterative radix-2 FFT (length a power of two); {@code inverse} scales by 1/n. */
    static void fft(double[] re, double[] im, boolean inverse) {
        int n = re.length;
        for (int i = 1, j = 0; i < n; i++) {
            int bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) {
                double t = re[i]; re[i] = re[j]; re[j] = t;
                t = im[i]; im[i] = im[j]; im[j] = t;
            }
        }
        for (int len = 2; len <= n; len <<= 1) {
            double ang = 2 * Math.PI / len * (inverse ? 1 : -1);
            double wr = Math.cos(ang), wi = Math.sin(ang);
            for (int i = 0; i < n; i += len) {
                double cr = 1, ci = 0;
                for (int j = 0; j < len / 2; j++) {
                    int a = i + j, b = i + j + len / 2;
                    double ur = re[a], ui = im[a];
                    double vr = re[b] * cr - im[b] * ci, vi = re[b] * ci + im[b] * cr;
                    re[a] = ur + vr; im[a] = ui + vi;
                    re[b] = ur - vr; im[b] = ui - vi;
                    double ncr = cr * wr - ci * wi;
                    ci = cr * wi + ci * wr;
                    cr = ncr;
                }
            }
        }
        if (inverse) {
            for (int i = 0; i < n; i++) {
                re[i] /= n;
                im[i] /= n;
            }
        }
    }

    /** A logarithmic sweep from {@code f0} to {@code f1} Hz at 48 kHz, amplitude {@code amplitude} (0..1). */
    public static short[] sweep(double seconds, double f0, double f1, double amplitude) {
        int n = (int) (seconds * 48_000);
        short[] out = new short[n];
        double k = Math.log(f1 / f0);
        for (int i = 0; i < n; i++) {
            double t = i / 48_000.0;
            double phase = 2 * Math.PI * f0 * seconds / k * (Math.exp(t / seconds * k) - 1);
            out[i] = (short) Math.round(amplitude * 32767 * Math.sin(phase));
        }
        return out;
    }
}
