package org.parley.client;

import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.DataLine;
import javax.sound.sampled.LineUnavailableException;
import javax.sound.sampled.SourceDataLine;
import javax.sound.sampled.TargetDataLine;

/**
 * The machine's microphone and speaker through Java Sound, at the call format (48 kHz, 16-bit, mono, little
 * endian), when present. A headless machine has neither; calls then use WAV files or silence.
 */
final class SoundDevices {
    static final AudioFormat FORMAT = new AudioFormat(48_000f, 16, 1, true, false);
    /** 20 ms of audio: one call frame. */
    static final int FRAME_SAMPLES = 960;

    private SoundDevices() {
    }

    /** An open, started microphone line with a 60 ms buffer, or null if there is none. */
    static TargetDataLine microphone() {
        try {
            DataLine.Info info = new DataLine.Info(TargetDataLine.class, FORMAT);
            if (!AudioSystem.isLineSupported(info)) return null;
            TargetDataLine l = (TargetDataLine) AudioSystem.getLine(info);
            l.open(FORMAT, FRAME_SAMPLES * 2 * 3);
            l.start();
            return l;
        } catch (LineUnavailableException | IllegalArgumentException | SecurityException e) {
            return null;
        }
    }

    /** An open, started speaker line with a 60 ms buffer, or null if there is none. */
    static SourceDataLine speaker() {
        try {
            DataLine.Info info = new DataLine.Info(SourceDataLine.class, FORMAT);
            if (!AudioSystem.isLineSupported(info)) return null;
            SourceDataLine l = (SourceDataLine) AudioSystem.getLine(info);
            l.open(FORMAT, FRAME_SAMPLES * 2 * 3);
            l.start();
            return l;
        } catch (LineUnavailableException | IllegalArgumentException | SecurityException e) {
            return null;
        }
    }

    static byte[] toBytes(short[] pcm, byte[] out) {
        for (int i = 0; i < pcm.length; i++) {
            out[2 * i] = (byte) pcm[i];
            out[2 * i + 1] = (byte) (pcm[i] >> 8);
        }
        return out;
    }

    static short[] toShorts(byte[] in, int bytes, short[] out) {
        for (int i = 0; i < bytes / 2; i++) out[i] = (short) ((in[2 * i] & 0xff) | (in[2 * i + 1] << 8));
        return out;
    }
}
