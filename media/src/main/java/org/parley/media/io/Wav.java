package org.parley.media.io;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.UnsupportedAudioFileException;
import org.parley.media.VoiceCodec;

/** WAV files for headless calls: read any PCM WAV as 48 kHz mono; write 48 kHz mono 16-bit as the call plays. */
public final class Wav {
    private Wav() {
    }

    /** Reads a PCM WAV (8 or 16 bit, any channels, any rate) as 48 kHz mono samples. */
    public static short[] read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException(file + " is not a file");
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file));
             AudioInputStream in = AudioSystem.getAudioInputStream(raw)) {
            AudioFormat f = in.getFormat();
            boolean pcm = f.getEncoding() == AudioFormat.Encoding.PCM_SIGNED || f.getEncoding() == AudioFormat.Encoding.PCM_UNSIGNED;
            if (!pcm || (f.getSampleSizeInBits() != 8 && f.getSampleSizeInBits() != 16)) {
                throw new IOException(file + ": only 8- or 16-bit PCM WAV is supported (found " + f + ")");
            }
            byte[] data = in.readAllBytes();
            int channels = f.getChannels();
            int bytes = f.getSampleSizeInBits() / 8;
            int frames = data.length / (bytes * channels);
            double[] mono = new double[frames];
            for (int i = 0; i < frames; i++) {
                double sum = 0;
                for (int ch = 0; ch < channels; ch++) {
                    int o = (i * channels + ch) * bytes;
                    int v;
                    if (bytes == 1) {
                        v = f.getEncoding() == AudioFormat.Encoding.PCM_UNSIGNED ? ((data[o] & 0xff) - 128) << 8 : data[o] << 8;
                    } else {
                        v = f.isBigEndian() ? (data[o] << 8) | (data[o + 1] & 0xff) : (data[o + 1] << 8) | (data[o] & 0xff);
                    }
                    sum += v;
                }
                mono[i] = sum / channels;
            }
            return toShorts(resample(mono, f.getSampleRate(), VoiceCodec.SAMPLE_RATE));
        } catch (UnsupportedAudioFileException e) {
            throw new IOException(file + " is not a WAV file Java Sound can read");
        }
    }

    /**
     * Band-limited resampling (windowed sinc, 16 zero crossings each side, cut-off at the lower Nyquist frequency).
     */
    static double[] resample(double[] in, double fromRate, double toRate) {
        if (Math.abs(fromRate - toRate) < 0.5) return in;
        int n = (int) Math.floor(in.length * toRate / fromRate);
        double[] out = new double[n];
        double ratio = fromRate / toRate;
        double cutoff = Math.min(1.0, toRate / fromRate); // relative to the input Nyquist
        int half = (int) Math.ceil(16 / cutoff);
        for (int i = 0; i < n; i++) {
            double x = i * ratio;
            int c = (int) Math.floor(x);
            double acc = 0;
            for (int k = c - half + 1; k <= c + half; k++) {
                if (k < 0 || k >= in.length) continue;
                double t = x - k;
                double arg = Math.PI * t * cutoff;
                double sinc = Math.abs(t) < 1e-9 ? 1 : Math.sin(arg) / arg;
                double w = 0.5 + 0.5 * Math.cos(Math.PI * t / (half + 1)); // Hann window
                acc += in[k] * sinc * cutoff * w;
            }
            out[i] = acc;
        }
        return out;
    }

    static short[] toShorts(double[] d) {
        short[] s = new short[d.length];
        for (int i = 0; i < d.length; i++) s[i] = (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, Math.round(d[i])));
        return s;
    }

    /** Writes 48 kHz mono 16-bit samples. */
    public static void write(Path file, short[] samples) throws IOException {
        try (Writer w = new Writer(file)) {
            w.write(samples);
        }
    }

    /**
     * A 48 kHz mono 16-bit WAV written as it grows: the header's sizes are fixed up on every {@link #flush()} and on
     * close, so a long call's recording is readable even if the process dies mid-call.
     */
    public static final class Writer implements AutoCloseable {
        private final RandomAccessFile f;
        private long dataBytes;

        public Writer(Path file) throws IOException {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) throw new IOException("folder " + parent + " does not exist");
            f = new RandomAccessFile(file.toFile(), "rw");
            f.setLength(0);
            f.write(header(0));
        }

        public void write(short[] samples) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(samples.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (short s : samples) b.putShort(s);
            f.write(b.array());
            dataBytes += samples.length * 2L;
        }

        /** Rewrites the header for what is written so far. */
        public void flush() throws IOException {
            long pos = f.getFilePointer();
            f.seek(0);
            f.write(header(dataBytes));
            f.seek(pos);
        }

        @Override
        public void close() throws IOException {
            try {
                flush();
            } finally {
                f.close();
            }
        }

        private static byte[] header(long dataBytes) {
            int rate = VoiceCodec.SAMPLE_RATE;
            ByteBuffer b = ByteBuffer.allocate(44).order(ByteOrder.LITTLE_ENDIAN);
            b.put("RIFF".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt((int) (36 + dataBytes))
                    .put("WAVE".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                    .put("fmt ".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(16).putShort((short) 1).putShort((short) 1)
                    .putInt(rate).putInt(rate * 2).putShort((short) 2).putShort((short) 16)
                    .put("data".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt((int) dataBytes);
            return b.array();
        }
    }
}
